namespace TinyBert.Lab;

/// <summary>Everything the tiny-BERT lab can be told.</summary>
public sealed record TinyBertOptions
{
    /// <summary>A Hugging Face checkpoint folder (config.json, vocab.txt, model.safetensors).</summary>
    public string? CheckpointFolder { get; init; }

    /// <summary>An ONNX export folder (model.onnx, vocab.txt).</summary>
    public string? OnnxFolder { get; init; }

    /// <summary>Download google/bert_uncased_L-2_H-128_A-2's checkpoint files (cached).</summary>
    public bool Download { get; init; }

    /// <summary>Reviews: aclImdb folder, tarball or CSV; null for the synthetic corpus (or the IMDB download).</summary>
    public string? DataPath { get; init; }

    /// <summary>Download the IMDB tarball for the reviews.</summary>
    public bool DownloadImdb { get; init; }

    /// <summary>Training reviews (head training; also encoder training when trained from scratch).</summary>
    public int TrainSamples { get; init; } = 3000;

    /// <summary>Test reviews.</summary>
    public int TestSamples { get; init; } = 1000;

    /// <summary>Epochs for training the encoder from scratch.</summary>
    public int EncoderEpochs { get; init; } = 10;

    /// <summary>Training texts static quantization calibrates on.</summary>
    public int CalibrationSamples { get; init; } = 300;

    /// <summary>Training reviews held out of training (encoder and head) as the validation split the "tuned INT8" row is tuned on.</summary>
    public int ValidationSamples { get; init; } = 500;

    /// <summary>Test texts timed one at a time.</summary>
    public int LatencySamples { get; init; } = 200;

    /// <summary>Folder for encoders, zips and reports.</summary>
    public string OutputFolder { get; init; } = Path.Combine("artifacts", "tinybert");

    /// <summary>Markdown report path (JSON next to it); default OutputFolder/report.md.</summary>
    public string? ReportPath { get; init; }

    /// <summary>TorchSharp's training threads when the encoder is trained from scratch; null for the machine's core count.</summary>
    public int? Threads { get; init; }

    /// <summary>Seed for data, initialization and shuffling.</summary>
    public int Seed { get; init; } = 42;

    /// <summary>Where checkpoint downloads come from (Hugging Face by default; tests point it at a local server).</summary>
    public Uri HubBase { get; init; } = new("https://huggingface.co/google/bert_uncased_L-2_H-128_A-2/resolve/main/");

    /// <summary>Cache folder for downloads; default the user's cache folder.</summary>
    public string? CacheFolder { get; init; }
}
