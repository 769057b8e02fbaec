using System.Net;
using MLNet.Quantization.Onnx;
using Sentiment.Common;
using TinyBert.Encoder;

namespace TinyBert.Lab;

/// <summary>Where the lab's float encoder came from.</summary>
/// <param name="OnnxPath">The float encoder, prepared for the pipeline (128 tokens, cls_embedding output).</param>
/// <param name="VocabularyPath">Its vocab.txt.</param>
/// <param name="Description">For the report.</param>
/// <param name="Pretrained">False when trained from scratch here.</param>
/// <param name="Epochs">Encoder training epochs (empty unless trained here).</param>
public sealed record EncoderFiles(string OnnxPath, string VocabularyPath, string Description, bool Pretrained, IReadOnlyList<EpochResult> Epochs);

/// <summary>Resolves the encoder: a checkpoint folder, an ONNX export folder, a download, or training from scratch.</summary>
public static class EncoderSource
{
    /// <summary>Checkpoint files fetched by <c>--download</c>.</summary>
    public static readonly IReadOnlyList<string> CheckpointFiles = new[] { "config.json", "vocab.txt", "model.safetensors" };

    /// <summary>Produces encoder.float.onnx and vocab.txt in <see cref="TinyBertOptions.OutputFolder"/>.</summary>
    public static async Task<EncoderFiles> ResolveAsync(TinyBertOptions options, ReviewDataset data, TextWriter log)
    {
        var onnxPath = Path.Combine(options.OutputFolder, "encoder.float.onnx");
        var vocabularyPath = Path.Combine(options.OutputFolder, "vocab.txt");
        Directory.CreateDirectory(options.OutputFolder);
        if (options.OnnxFolder is { } folder)
        {
            File.WriteAllBytes(onnxPath, EncoderGraph.PrepareForPipeline(File.ReadAllBytes(Required(folder, "model.onnx")), folder, TinyBert.Pipeline.BertTokenization.Length));
            File.Copy(Required(folder, "vocab.txt"), vocabularyPath, overwrite: true);
            return new EncoderFiles(onnxPath, vocabularyPath, $"ONNX export folder {folder}", true, Array.Empty<EpochResult>());
        }
        string? checkpoint = options.CheckpointFolder;
        if (options.Download) checkpoint = await DownloadAsync(options, log).ConfigureAwait(false);
        if (checkpoint is not null)
        {
            var config = BertConfig.Read(Required(checkpoint, "config.json"));
            var weights = new BertWeights(config, SafetensorsFile.Read(Required(checkpoint, "model.safetensors")));
            var model = OnnxModelFile.ToBytes(BertOnnxBuilder.Build(weights));
            File.WriteAllBytes(onnxPath, EncoderGraph.PrepareForPipeline(model, checkpoint, TinyBert.Pipeline.BertTokenization.Length));
            File.Copy(Required(checkpoint, "vocab.txt"), vocabularyPath, overwrite: true);
            return new EncoderFiles(onnxPath, vocabularyPath, $"pretrained checkpoint {checkpoint} ({config.Layers} layers, hidden {config.HiddenSize})", true, Array.Empty<EpochResult>());
        }

        log.WriteLine("No --checkpoint, --onnx or --download: the encoder is TRAINED FROM SCRATCH on the sample's data here — it is NOT the pretrained tiny BERT.");
        ScratchEncoder.WriteVocabulary(data.Train.Select(r => r.Text), vocabularyPath);
        var epochs = ScratchEncoder.Train(data, vocabularyPath, onnxPath, options.EncoderEpochs, options.Seed, options.Threads, log);
        File.WriteAllBytes(onnxPath, EncoderGraph.PrepareForPipeline(File.ReadAllBytes(onnxPath), onnxPath, TinyBert.Pipeline.BertTokenization.Length));
        return new EncoderFiles(onnxPath, vocabularyPath, "bert_uncased_L-2_H-128_A-2 architecture trained from scratch on the sample's data (not pretrained)", false, epochs);
    }

    private static async Task<string> DownloadAsync(TinyBertOptions options, TextWriter log)
    {
        var cache = Path.Combine(options.CacheFolder ?? CachedDownloader.DefaultCacheFolder(), "bert_uncased_L-2_H-128_A-2");
        var downloader = new CachedDownloader();
        foreach (var file in CheckpointFiles)
        {
            var url = new Uri(options.HubBase, file);
            log.WriteLine($"Downloading {url} ...");
            var bar = new ConsoleProgressBar(log);
            try
            {
                await downloader.DownloadAsync(url, null, cache, bar).ConfigureAwait(false);
            }
            catch (HttpRequestException e) when (file == "model.safetensors" && e.StatusCode == HttpStatusCode.NotFound)
            {
                throw new InvalidOperationException($"The hub offers no model.safetensors at {url}. Convert the checkpoint's pytorch_model.bin to safetensors and pass the folder with --checkpoint, or export the model to ONNX and pass --onnx FOLDER.", e);
            }
            bar.Finish();
        }
        return cache;
    }

    private static string Required(string folder, string file)
    {
        var path = Path.Combine(folder, file);
        return File.Exists(path) ? path : throw new FileNotFoundException($"'{path}' is missing: the folder needs {file}.");
    }
}
