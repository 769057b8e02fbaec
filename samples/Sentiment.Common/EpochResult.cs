namespace Sentiment.Common;

/// <summary>One epoch's figures.</summary>
/// <param name="Epoch">1-based epoch.</param>
/// <param name="Loss">Mean binary cross-entropy over the epoch.</param>
/// <param name="Accuracy">Training accuracy over the epoch (dropout on).</param>
/// <param name="Elapsed">Time the epoch took.</param>
public sealed record EpochResult(int Epoch, double Loss, double Accuracy, TimeSpan Elapsed);
