using System.Text.RegularExpressions;
using Sentiment.Common;
using TinyBert.Encoder;
using TinyBert.Pipeline;
using TinyBert.Training;

namespace TinyBert.Lab;

/// <summary>
/// The offline default: bert_uncased_L-2_H-128_A-2's architecture and vocabulary format (30,522 entries laid out as
/// BERT's: [PAD], [unused…], [UNK], [CLS], [SEP], [MASK], then words), with the words taken from the training
/// reviews and the remaining entries [unused…] — trained from scratch on the sentiment task. Not pretrained.
/// </summary>
public static partial class ScratchEncoder
{
    /// <summary>The architecture of google/bert_uncased_L-2_H-128_A-2.</summary>
    public static readonly BertConfig TinyBertConfig = new(VocabularySize: 30522, HiddenSize: 128, Layers: 2, Heads: 2, IntermediateSize: 512, MaxPositions: 512);

    /// <summary>Writes vocab.txt from the training texts' words, most frequent first.</summary>
    public static void WriteVocabulary(IEnumerable<string> texts, string path, int size = 30522)
    {
        var entries = new List<string> { "[PAD]" };
        entries.AddRange(Enumerable.Range(0, 99).Select(i => $"[unused{i}]"));
        entries.AddRange(new[] { "[UNK]", "[CLS]", "[SEP]", "[MASK]" });
        entries.AddRange(".,!?;:'\"()-/".Select(c => c.ToString()));
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var text in texts)
            foreach (Match word in Word().Matches(text.ToLowerInvariant())) counts[word.Value] = counts.GetValueOrDefault(word.Value) + 1;
        var known = new HashSet<string>(entries, StringComparer.Ordinal);
        entries.AddRange(counts.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Key).Where(known.Add).Take(size - entries.Count));
        for (int i = 99; entries.Count < size; i++) entries.Add($"[unused{i}]");
        File.WriteAllLines(path, entries);
    }

    /// <summary>Trains the encoder (with a temporary classifier) with TorchSharp and writes it as ONNX; returns the epochs.</summary>
    public static List<EpochResult> Train(ReviewDataset data, string vocabularyPath, string onnxPath, int epochs, int seed, int? threads, TextWriter log)
    {
        var tokenizer = BertTokenization.Use(vocabularyPath);
        var samples = data.Train.Select(r => BertTokenization.Encode(tokenizer, r.Text).Ids).ToList();
        TorchTrainer.Configure(threads, seed);
        using var network = new BertClassifier(TinyBertConfig);
        log.WriteLine($"Training the encoder FROM SCRATCH (not pretrained) with TorchSharp: {TinyBertConfig.Layers} layers, hidden {TinyBertConfig.HiddenSize}, {TinyBertConfig.Heads} heads, FFN {TinyBertConfig.IntermediateSize}, {epochs} epochs, batch 32, AdamW 5e-4, {TorchSharp.torch.get_num_threads()} threads ...");
        var results = TorchTrainer.Train(network, samples, data.Train.Select(r => r.Positive).ToList(), epochs, 32, seed,
            new EpochLogger(log), learningRate: 5e-4, trimPadding: true);
        MLNet.Quantization.Onnx.OnnxModelFile.Save(BertOnnxBuilder.Build(new BertWeights(TinyBertConfig, network.EncoderTensors())), onnxPath);
        return results;
    }

    [GeneratedRegex("[a-z0-9]+")]
    private static partial Regex Word();
}
