using Microsoft.ML.Data;
using Microsoft.ML.Transforms;

namespace ImdbSentiment.Pipeline;

/// <summary>Input of <see cref="ScoreMapping"/>: the ONNX model's output.</summary>
public sealed class ModelOutput
{
    /// <summary>Probability of a positive review, as a one-element vector.</summary>
    [VectorType(1)]
    [ColumnName("probability")]
    public float[] Output { get; set; } = Array.Empty<float>();
}

/// <summary>Output of <see cref="ScoreMapping"/>: the columns ML.NET's binary-classification evaluator reads.</summary>
public sealed class BinaryScore
{
    /// <summary>The logit.</summary>
    public float Score { get; set; }

    /// <summary>Probability of a positive review.</summary>
    public float Probability { get; set; }

    /// <summary>Probability ≥ 0.5.</summary>
    public bool PredictedLabel { get; set; }
}

/// <summary>Maps the model's probability to Score / Probability / PredictedLabel for <c>BinaryClassification.Evaluate</c>.</summary>
[CustomMappingFactoryAttribute(ContractName)]
public sealed class ScoreMapping : CustomMappingFactory<ModelOutput, BinaryScore>
{
    /// <summary>The name the mapping is saved under.</summary>
    public const string ContractName = "ImdbSentiment.Score";

    /// <summary>Maps one row.</summary>
    public static void Map(ModelOutput input, BinaryScore output)
    {
        float p = Math.Clamp(input.Output[0], 1e-7f, 1 - 1e-7f);
        output.Probability = p;
        output.Score = MathF.Log(p / (1 - p));
        output.PredictedLabel = p >= 0.5f;
    }

    /// <inheritdoc />
    public override Action<ModelOutput, BinaryScore> GetMapping() => Map;
}
