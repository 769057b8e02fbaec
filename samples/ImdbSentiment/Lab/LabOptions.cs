namespace ImdbSentiment.Lab;

/// <summary>Everything the lab run can be told.</summary>
public sealed record LabOptions
{
    /// <summary>aclImdb folder, aclImdb_v1.tar.gz or review,sentiment CSV; null for the download or the synthetic corpus.</summary>
    public string? DataPath { get; init; }

    /// <summary>Download the official tarball (cached) when no data path is given.</summary>
    public bool Download { get; init; }

    /// <summary>Training epochs (the lab: 3).</summary>
    public int Epochs { get; init; } = 3;

    /// <summary>Training reviews used (all when larger than the data; synthetic corpus size otherwise).</summary>
    public int TrainSamples { get; init; } = 10_000;

    /// <summary>Test reviews used.</summary>
    public int TestSamples { get; init; } = 2000;

    /// <summary>Training reviews held out of training as the validation split the "tuned INT8" row is tuned on.</summary>
    public int ValidationSamples { get; init; } = 1000;

    /// <summary>Training reviews static quantization calibrates on.</summary>
    public int CalibrationSamples { get; init; } = 500;

    /// <summary>Mini-batch size (the lab: 32).</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Test reviews timed one at a time for the latency column.</summary>
    public int LatencySamples { get; init; } = 200;

    /// <summary>Folder for the .onnx files, the ML.NET zips and the report.</summary>
    public string OutputFolder { get; init; } = Path.Combine("artifacts", "imdb");

    /// <summary>Where the Markdown report goes (the JSON goes next to it); default OutputFolder/report.md.</summary>
    public string? ReportPath { get; init; }

    /// <summary>Quantization-aware fine-tuning epochs for the "QAT INT8" row (from the trained float model).</summary>
    public int QatEpochs { get; init; } = 1;

    /// <summary>AdamW learning rate of the quantization-aware fine-tuning.</summary>
    public double QatLearningRate { get; init; } = 1e-4;

    /// <summary>Quantization-aware training learns activation scales (LSQ) instead of following moving-average observers.</summary>
    public bool LearnedScales { get; init; }

    /// <summary>TorchSharp's training threads; null for the machine's core count.</summary>
    public int? Threads { get; init; }

    /// <summary>Seed for data generation, initialization, shuffling and dropout.</summary>
    public int Seed { get; init; } = 42;
}
