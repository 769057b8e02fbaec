namespace TinyLlama.Model;

/// <summary>The sizes of a Llama-shaped decoder.</summary>
/// <param name="Vocabulary">Token ids (bytes here: 128 ASCII codes).</param>
/// <param name="Hidden">Width of the residual stream.</param>
/// <param name="Layers">Decoder layers.</param>
/// <param name="Heads">Query heads.</param>
/// <param name="KeyValueHeads">Key/value heads (grouped-query attention: each serves Heads / KeyValueHeads query heads).</param>
/// <param name="Intermediate">Width of the SwiGLU feed-forward.</param>
/// <param name="MaxPositions">Longest sequence the rotary tables cover.</param>
/// <param name="RopeTheta">Rotary base frequency.</param>
/// <param name="NormEpsilon">RMSNorm's ε.</param>
public sealed record LlamaConfig(int Vocabulary = 128, int Hidden = 256, int Layers = 4, int Heads = 4, int KeyValueHeads = 2, int Intermediate = 768,
    int MaxPositions = 512, double RopeTheta = 10000, float NormEpsilon = 1e-5f)
{
    /// <summary>Width of one head.</summary>
    public int HeadSize => Hidden / Heads;

    /// <summary>Query heads per key/value head.</summary>
    public int GroupSize => Heads / KeyValueHeads;

    /// <summary>Throws for sizes the architecture cannot have.</summary>
    public void Validate()
    {
        if (Hidden % Heads != 0 || HeadSize % 2 != 0) throw new ArgumentException($"Hidden ({Hidden}) must split into {Heads} heads of an even size.");
        if (Heads % KeyValueHeads != 0) throw new ArgumentException($"{Heads} query heads cannot be grouped over {KeyValueHeads} key/value heads.");
    }

    /// <summary>cos and sin of position · θ^(−2i/headSize) for every position and i &lt; headSize/2, as [MaxPositions, HeadSize/2].</summary>
    public (float[] Cos, float[] Sin) RotaryTables()
    {
        int half = HeadSize / 2;
        var cos = new float[MaxPositions * half];
        var sin = new float[MaxPositions * half];
        for (int position = 0; position < MaxPositions; position++)
        {
            for (int i = 0; i < half; i++)
            {
                double angle = position * Math.Pow(RopeTheta, -2.0 * i / HeadSize);
                cos[position * half + i] = (float)Math.Cos(angle);
                sin[position * half + i] = (float)Math.Sin(angle);
            }
        }
        return (cos, sin);
    }
}
