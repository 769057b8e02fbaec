using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace MLNet.Quantization.ModelZoo;

/// <summary>Random token ids and attention masks (the last quarter of each row padded) for the BERT-shaped model.</summary>
public static class BertInputs
{
    /// <summary>Creates the inputs.</summary>
    public static List<NamedOnnxValue> Create(int batch, BertShape shape, int seed)
    {
        var random = new Random(seed);
        var ids = new long[batch * shape.Sequence];
        var mask = new long[batch * shape.Sequence];
        for (int i = 0; i < ids.Length; i++)
        {
            ids[i] = random.Next(shape.Vocabulary);
            mask[i] = i % shape.Sequence < shape.Sequence * 3 / 4 ? 1 : 0;
        }
        var dims = new[] { batch, shape.Sequence };
        return new List<NamedOnnxValue>
        {
            NamedOnnxValue.CreateFromTensor("input_ids", new DenseTensor<long>(ids, dims)),
            NamedOnnxValue.CreateFromTensor("attention_mask", new DenseTensor<long>(mask, dims)),
        };
    }
}
