using TinyLlama.Model;

namespace TinyLlama.Lab;

/// <summary>Settings of the TinyLlama lab.</summary>
public sealed record TinyLlamaOptions
{
    /// <summary>The decoder's sizes.</summary>
    public LlamaConfig Config { get; init; } = new();

    /// <summary>Training steps.</summary>
    public int Steps { get; init; } = 600;

    /// <summary>Windows per training step.</summary>
    public int BatchSize { get; init; } = 16;

    /// <summary>Tokens per training, scoring and calibration window.</summary>
    public int Window { get; init; } = 128;

    /// <summary>AdamW's peak learning rate.</summary>
    public double LearningRate { get; init; } = 3e-3;

    /// <summary>Reviews in the training text.</summary>
    public int TrainReviews { get; init; } = 6000;

    /// <summary>Reviews in the held-out text.</summary>
    public int HeldOutReviews { get; init; } = 300;

    /// <summary>Training windows GPTQ calibrates on.</summary>
    public int CalibrationWindows { get; init; } = 64;

    /// <summary>Tokens generated per model for the tokens-per-second figure and the sample text.</summary>
    public int GeneratedTokens { get; init; } = 120;

    /// <summary>The generation prompt.</summary>
    public string Prompt { get; init; } = "the acting was ";

    /// <summary>Seed of initialization, batches and text.</summary>
    public int Seed { get; init; } = 42;

    /// <summary>TorchSharp training threads (default: the machine's cores).</summary>
    public int? Threads { get; init; }

    /// <summary>Folder for the models and the report.</summary>
    public string OutputFolder { get; init; } = "artifacts/tiny-llama";

    /// <summary>Only these rows (names as in the report); all when empty.</summary>
    public IReadOnlyList<string> Only { get; init; } = Array.Empty<string>();
}
