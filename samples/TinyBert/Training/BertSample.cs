namespace TinyBert.Training;

/// <summary>One tokenized text: ids ([CLS] … [SEP], then padding) and how many are real tokens.</summary>
/// <param name="Ids">Token ids, padded to the sequence length.</param>
/// <param name="Length">Real tokens (attention mask 1); the rest is padding.</param>
public sealed record BertSample(int[] Ids, int Length);
