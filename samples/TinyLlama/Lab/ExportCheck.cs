using TinyLlama.Model;
using TorchSharp;

namespace TinyLlama.Lab;

/// <summary>Checks an export: ONNX Runtime against TorchSharp on one window, and decoding with the cache against one full pass.</summary>
public static class ExportCheck
{
    /// <summary>The largest absolute logit differences (export, cache); throws when either exceeds 1e-3 of the logits' scale.</summary>
    public static (double Export, double Cache) Check(LlamaDecoder model, string onnxPath, long[] ids)
    {
        var config = model.Config;
        float[] expected;
        using (torch.no_grad())
        using (var scope = torch.NewDisposeScope())
            expected = model.forward(torch.tensor(ids, new long[] { 1, ids.Length })).data<float>().ToArray();
        using var decoder = new OnnxDecoder(onnxPath, config);
        var (full, _) = decoder.Run(ids, OnnxDecoder.EmptyCache(config));
        double export = expected.Zip(full, (a, b) => Math.Abs(a - b)).Max();

        int prompt = ids.Length / 2;
        var (logits, cache) = decoder.Run(ids[..prompt], OnnxDecoder.EmptyCache(config));
        var incremental = new List<float>(logits);
        for (int t = prompt; t < ids.Length; t++)
        {
            (logits, cache) = decoder.Run(new[] { ids[t] }, cache);
            incremental.AddRange(logits);
        }
        double cached = full.Zip(incremental, (a, b) => Math.Abs(a - b)).Max();
        double scale = 1 + expected.Max(Math.Abs);
        if (export > 1e-3 * scale || cached > 1e-3 * scale)
            throw new InvalidOperationException($"The ONNX export disagrees: max |diff| {export:G3} against TorchSharp, {cached:G3} between cached and full decoding (logit scale {scale:G3}).");
        return (export, cached);
    }
}
