namespace ImdbSentiment.Model;

/// <summary>The activations of one forward pass, kept for the backward pass (one per thread).</summary>
public sealed class Workspace
{
    /// <summary>Allocates the activations for <paramref name="c"/>.</summary>
    public Workspace(TransformerConfig c)
    {
        int l = c.Sequence, d = c.Embedding, p = c.Projection;
        Normalized = new float[l * d];
        InverseStd = new float[l];
        Hidden = new float[l * d];
        Query = new float[l * p]; Key = new float[l * p]; Value = new float[l * p];
        HeadQuery = new float[c.Heads][]; HeadKey = new float[c.Heads][]; HeadValue = new float[c.Heads][];
        Attention = new float[c.Heads][];
        for (int j = 0; j < c.Heads; j++)
        {
            HeadQuery[j] = new float[l * c.KeyDimension];
            HeadKey[j] = new float[l * c.KeyDimension];
            HeadValue[j] = new float[l * c.KeyDimension];
            Attention[j] = new float[l * l];
        }
        HeadOutput = new float[l * c.KeyDimension];
        Context = new float[l * p];
        Attended = new float[l * d];
        Pooled = new float[d];
        PooledContext = new float[p];
        PreActivation = new float[c.Hidden];
        Mask = new float[c.Hidden];
        Activated = new float[c.Hidden];
        ScoreGradient = new float[l * l];
        QueryGradient = new float[l * p]; KeyGradient = new float[l * p]; ValueGradient = new float[l * p];
        HeadGradient = new float[l * c.KeyDimension];
        HiddenGradient = new float[l * d];
    }

    internal int[] Ids = Array.Empty<int>();
    internal float[] Normalized, InverseStd, Hidden, Query, Key, Value, HeadOutput, Context, Attended, Pooled, PooledContext, PreActivation, Mask, Activated;
    internal float[][] HeadQuery, HeadKey, HeadValue, Attention;
    internal float[] ScoreGradient, QueryGradient, KeyGradient, ValueGradient, HeadGradient, HiddenGradient;
    internal float Probability;
}
