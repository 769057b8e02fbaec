namespace MLNet.Quantization.WeightOnly;

/// <summary>
/// Half-quadratic quantization of one block (HQQ, Badri &amp; Shaji 2023), adapted to MatMulNBits' integer zero points.
/// The lp-norm (p &lt; 1) objective ‖w − dequant(quant(w))‖ₚ is split with an auxiliary error e: e is the proximal
/// (generalised soft-threshold) step towards w − reconstruction, then the zero point and scale solve the quadratic
/// part ‖(w − e) − (q − z)·s‖² in closed form, the zero point rounded to an integer code. β grows by κ each step.
/// Values are handled in units of the block's largest magnitude, so the thresholds do not depend on the weights'
/// scale. The iterate with the smallest squared reconstruction error wins, RTN included, so HQQ is never worse than
/// RTN on a block by that measure.
/// </summary>
internal static class HqqOptimizer
{
    private const float P = 0.7f;
    private const float InitialBeta = 10f;
    private const float Kappa = 1.01f;
    private const int Iterations = 20;

    /// <summary>Refines <paramref name="start"/> (RTN) for <paramref name="values"/>; <paramref name="work"/> needs values.Length floats.</summary>
    public static BlockParameters Refine(ReadOnlySpan<float> values, int bits, bool symmetric, BlockParameters start, Span<float> work)
    {
        int maxCode = (1 << bits) - 1;
        float magnitude = 0;
        foreach (var w in values) magnitude = MathF.Max(magnitude, MathF.Abs(w));
        if (magnitude == 0 || values.Length < 2) return start;

        var best = start;
        double bestError = start.SquaredError(values, maxCode);
        float scale = start.Scale / magnitude;
        int zero = start.ZeroPoint;
        float beta = InitialBeta;
        var target = work[..values.Length];
        for (int iteration = 0; iteration < Iterations; iteration++)
        {
            double codeSum = 0, targetOverScale = 0;
            for (int i = 0; i < values.Length; i++)
            {
                float w = values[i] / magnitude;
                int q = Math.Clamp((int)MathF.Round(w / scale) + zero, 0, maxCode);
                float residual = w - (q - zero) * scale;
                target[i] = w - Shrink(residual, beta);
                codeSum += q;
                targetOverScale += target[i] / scale;
            }
            if (!symmetric) zero = Math.Clamp((int)Math.Round((codeSum - targetOverScale) / values.Length), 0, maxCode);

            double numerator = 0, denominator = 0;
            for (int i = 0; i < values.Length; i++)
            {
                float w = values[i] / magnitude;
                int centred = Math.Clamp((int)MathF.Round(w / scale) + zero, 0, maxCode) - zero;
                numerator += target[i] * centred;
                denominator += (double)centred * centred;
            }
            if (denominator > 0 && numerator != 0) scale = (float)(numerator / denominator);
            beta *= Kappa;

            var candidate = new BlockParameters(scale * magnitude, zero);
            double error = candidate.SquaredError(values, maxCode);
            if (error < bestError)
            {
                bestError = error;
                best = candidate;
            }
        }
        return best;
    }

    /// <summary>The proximal step of |x|ᵖ: sign(x)·max(|x| − |x|ᵖ⁻¹/β, 0).</summary>
    private static float Shrink(float x, float beta)
    {
        float magnitude = MathF.Abs(x);
        if (magnitude == 0) return 0;
        float shrunk = magnitude - MathF.Pow(magnitude, P - 1) / beta;
        return shrunk <= 0 ? 0 : MathF.CopySign(shrunk, x);
    }
}
