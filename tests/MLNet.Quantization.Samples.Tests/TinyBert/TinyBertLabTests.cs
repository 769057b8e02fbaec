using System.Net;
using System.Net.Sockets;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.Quantization.Onnx;
using Sentiment.Common;
using TinyBert.Encoder;
using TinyBert.Lab;
using TinyBert.Pipeline;

namespace MLNet.Quantization.Tests.TinyBert;

public sealed class TinyBertLabTests
{
    private static readonly string[] Vocabulary = { "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "film", "was", "great", "##s", "not" };

    private static TinyBertOptions Short(string output) =>
        new() { TrainSamples = 120, TestSamples = 60, EncoderEpochs = 1, CalibrationSamples = 20, ValidationSamples = 30, LatencySamples = 10, OutputFolder = output };

    /// <summary>An HF-style folder: the builder's encoder saved as model.onnx with a vocab.txt covering the checkpoint's 60 ids.</summary>
    private static string WriteOnnxExportFolder(string root)
    {
        var folder = Directory.CreateDirectory(Path.Combine(root, "export")).FullName;
        new BertCheckpoint(seed: 31).Write(folder);
        var weights = new BertWeights(BertConfig.Read(Path.Combine(folder, "config.json")), SafetensorsFile.Read(Path.Combine(folder, "model.safetensors")));
        OnnxModelFile.Save(BertOnnxBuilder.Build(weights), Path.Combine(folder, "model.onnx"));
        File.WriteAllLines(Path.Combine(folder, "vocab.txt"), Vocabulary.Concat(Enumerable.Range(0, BertCheckpoint.Vocabulary - Vocabulary.Length).Select(i => $"word{i}")));
        File.Delete(Path.Combine(folder, "model.safetensors"));
        File.Delete(Path.Combine(folder, "config.json"));
        return folder;
    }

    [Fact]
    public void Tokenizer_mapping_gives_cls_pieces_sep_padding_and_mask()
    {
        using var folder = new TempFolder();
        File.WriteAllLines(folder.File("vocab.txt"), Vocabulary);
        BertTokenization.Use(folder.File("vocab.txt"));
        var ml = new MLContext();
        var data = ml.Data.LoadFromEnumerable(new[] { new LabelledText { Text = "The films was NOT great, zebra" } });
        var mapped = ml.Transforms.CustomMapping(new BertTokenization().GetMapping(), BertTokenization.ContractName).Fit(data).Transform(data);
        var ids = mapped.GetColumn<long[]>("input_ids").Single();
        var mask = mapped.GetColumn<long[]>("attention_mask").Single();

        Assert.Equal(new long[] { 2, 5, 6, 9, 7, 10, 8, 1, 1, 3, 0 }, ids.Take(11));
        Assert.Equal(10, mask.Sum());
        Assert.All(mapped.GetColumn<long[]>("token_type_ids").Single(), t => Assert.Equal(0, t));
    }

    [Fact]
    public async Task An_onnx_export_folder_is_loaded_quantized_and_reported_without_code_changes()
    {
        using var folder = new TempFolder();
        var export = WriteOnnxExportFolder(folder.Path);
        var report = await TinyBertLab.RunAsync(Short(folder.File("out")) with { OnnxFolder = export }, new StringWriter());

        var json = LabReport.FromJson(File.ReadAllText(Path.Combine(folder.Path, "out", "report.json")));
        Assert.Contains(json.Notes, n => n.Contains("ONNX export folder", StringComparison.Ordinal));
        Assert.Empty(json.Epochs);
        Assert.Equal(new[] { "float", "dynamic INT8", "static INT8", "tuned INT8" }, json.Rows.Select(r => r.Model));
        Assert.Contains(json.Notes, n => n.StartsWith("Tuned INT8: ", StringComparison.Ordinal) && n.Contains("tuning: target met", StringComparison.Ordinal));
        Assert.All(json.Rows.Skip(1), r => Assert.True(Math.Abs(r.Accuracy - json.Rows[0].Accuracy) <= 0.1, $"{r.Model}: {r.Accuracy:P1} against float {json.Rows[0].Accuracy:P1}"));
        Assert.True(json.Rows[1].OnnxSizeKb < json.Rows[0].OnnxSizeKb && json.Rows[2].OnnxSizeKb <= json.Rows[0].OnnxSizeKb, report.ToMarkdown());
        var prepared = OnnxModelFile.Load(Path.Combine(folder.Path, "out", "encoder.float.onnx"));
        Assert.Contains(prepared.Graph.Output, o => o.Name == EncoderGraph.ClsOutput);
    }

    [Fact]
    public async Task A_short_run_trained_from_scratch_writes_a_consistent_report()
    {
        using var folder = new TempFolder();
        var log = new StringWriter();
        await TinyBertLab.RunAsync(Short(folder.Path), log);
        var json = LabReport.FromJson(File.ReadAllText(folder.File("report.json")));

        Assert.Contains("TRAINED FROM SCRATCH", log.ToString());
        Assert.True(json.SyntheticData);
        Assert.Single(json.Epochs);
        Assert.Contains(json.Notes, n => n.Contains("not pretrained", StringComparison.Ordinal));
        Assert.True(json.Rows[0].OnnxSizeKb / json.Rows[1].OnnxSizeKb > 3.9, $"dynamic encoder size ratio {json.Rows[0].OnnxSizeKb / json.Rows[1].OnnxSizeKb:F2}");
        Assert.Equal(30522, File.ReadAllLines(folder.File("vocab.txt")).Length);
        foreach (var name in new[] { "float", "dynamic", "static", "tuned" })
        {
            Assert.True(File.Exists(folder.File($"encoder.{name}.onnx")));
            Assert.True(File.Exists(folder.File($"tinybert.{name}.zip")));
        }
    }

    [Fact]
    public async Task Download_fetches_the_checkpoint_files_once_and_explains_a_missing_safetensors()
    {
        using var folder = new TempFolder();
        var files = Directory.CreateDirectory(Path.Combine(folder.Path, "hub")).FullName;
        new BertCheckpoint(seed: 41).Write(files);
        File.WriteAllLines(Path.Combine(files, "vocab.txt"), Vocabulary.Concat(Enumerable.Range(0, BertCheckpoint.Vocabulary - Vocabulary.Length).Select(i => $"word{i}")));
        int requests = 0;
        var port = FreePort();
        using var listener = new HttpListener();
        listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        listener.Start();
        bool serveSafetensors = true;
        var serving = Task.Run(async () =>
        {
            while (listener.IsListening)
            {
                HttpListenerContext context;
                try { context = await listener.GetContextAsync(); } catch (Exception) { return; }
                Interlocked.Increment(ref requests);
                var path = Path.Combine(files, Path.GetFileName(context.Request.Url!.LocalPath));
                if (!File.Exists(path) || (!serveSafetensors && path.EndsWith(".safetensors", StringComparison.Ordinal))) { context.Response.StatusCode = 404; context.Response.Close(); continue; }
                var bytes = await File.ReadAllBytesAsync(path);
                context.Response.ContentLength64 = bytes.Length;
                await context.Response.OutputStream.WriteAsync(bytes);
                context.Response.Close();
            }
        });
        var options = Short(folder.File("out")) with { Download = true, HubBase = new Uri($"http://127.0.0.1:{port}/model/resolve/main/"), CacheFolder = folder.File("cache") };
        var data = SyntheticReviews.Dataset(10, 10);

        var encoder = await EncoderSource.ResolveAsync(options, data, new StringWriter());
        Assert.True(encoder.Pretrained);
        Assert.Equal(3, requests);
        await EncoderSource.ResolveAsync(options, data, new StringWriter());
        Assert.Equal(3, requests);

        serveSafetensors = false;
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => EncoderSource.ResolveAsync(options with { CacheFolder = folder.File("cache2") }, data, new StringWriter()));
        Assert.Contains("no model.safetensors", error.Message);
        listener.Stop();
        await serving;
    }

    private static int FreePort()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
    }
}
