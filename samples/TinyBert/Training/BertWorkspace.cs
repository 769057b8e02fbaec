using TinyBert.Encoder;

namespace TinyBert.Training;

/// <summary>One tokenized text: ids ([CLS] … [SEP], then padding) and how many are real tokens.</summary>
/// <param name="Ids">Token ids, padded to the sequence length.</param>
/// <param name="Length">Real tokens (attention mask 1); the rest is padding.</param>
public sealed record BertSample(int[] Ids, int Length);

/// <summary>Activations of one forward pass over up to <c>sequence</c> tokens, kept for the backward pass.</summary>
public sealed class BertWorkspace
{
    internal sealed class Layer
    {
        public float[] Q, K, V, C, N1, Inv1, X1, F1, G, N2, Inv2;
        public float[][] Qh, Kh, Vh, A;

        public Layer(BertConfig c, int l)
        {
            int h = c.HiddenSize, dk = c.HeadSize;
            (Q, K, V, C, N1, X1, N2) = (new float[l * h], new float[l * h], new float[l * h], new float[l * h], new float[l * h], new float[l * h], new float[l * h]);
            (Inv1, Inv2) = (new float[l], new float[l]);
            (F1, G) = (new float[l * c.IntermediateSize], new float[l * c.IntermediateSize]);
            Qh = Enumerable.Range(0, c.Heads).Select(_ => new float[l * dk]).ToArray();
            Kh = Enumerable.Range(0, c.Heads).Select(_ => new float[l * dk]).ToArray();
            Vh = Enumerable.Range(0, c.Heads).Select(_ => new float[l * dk]).ToArray();
            A = Enumerable.Range(0, c.Heads).Select(_ => new float[l * l]).ToArray();
        }
    }

    /// <summary>Allocates buffers for <paramref name="config"/> and sequences of up to <paramref name="sequence"/> tokens.</summary>
    public BertWorkspace(BertConfig config, int sequence)
    {
        int h = config.HiddenSize;
        Sequence = sequence;
        Layers = Enumerable.Range(0, config.Layers).Select(_ => new Layer(config, sequence)).ToArray();
        X = Enumerable.Range(0, config.Layers + 1).Select(_ => new float[sequence * h]).ToArray();
        N0 = new float[sequence * h];
        Inv0 = new float[sequence];
        Pooled = new float[h];
        Gradient = new float[sequence * h];
        InputGradient = new float[sequence * h];
        Residual = new float[sequence * h];
        ContextGradient = new float[sequence * h];
        QGradient = new float[sequence * h]; KGradient = new float[sequence * h]; VGradient = new float[sequence * h];
        HeadGradient = new float[sequence * config.HeadSize];
        HeadGradient2 = new float[sequence * config.HeadSize];
        AttentionGradient = new float[sequence * sequence];
        IntermediateGradient = new float[sequence * config.IntermediateSize];
        Scratch = new float[sequence * h];
    }

    internal int Sequence;
    internal int Length;
    internal int[] Ids = Array.Empty<int>();
    internal Layer[] Layers;
    internal float[][] X;
    internal float[] N0, Inv0, Pooled, Gradient, InputGradient, Residual, ContextGradient, QGradient, KGradient, VGradient, HeadGradient, HeadGradient2, AttentionGradient, IntermediateGradient, Scratch;
    internal float Probability;
}
