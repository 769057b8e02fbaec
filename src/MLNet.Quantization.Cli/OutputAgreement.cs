using Microsoft.ML.OnnxRuntime.Tensors;

namespace MLNet.Quantization.Cli;

/// <summary>How closely one output of the quantized model follows the float model.</summary>
/// <param name="Name">Output name.</param>
/// <param name="MaxAbsDiff">Largest absolute difference over all elements and inputs.</param>
/// <param name="Cosine">Cosine similarity of the concatenated outputs.</param>
/// <param name="ArgmaxAgreement">Share of rows (along the last axis) whose argmax is the same.</param>
internal sealed record OutputAgreement(string Name, double MaxAbsDiff, double Cosine, double ArgmaxAgreement)
{
    /// <summary>Folds outputs in one input set at a time.</summary>
    public sealed class Accumulator(string name)
    {
        private double _maxAbsDiff, _dot, _normReference, _normCandidate;
        private long _rows, _agreeingRows;

        /// <summary>Number of input sets folded in.</summary>
        public int Count { get; private set; }

        /// <summary>Adds one pair of outputs.</summary>
        public void Add(Tensor<float> reference, Tensor<float> candidate)
        {
            var r = reference.ToArray();
            var c = candidate.ToArray();
            if (r.Length != c.Length) throw new InvalidOperationException($"Output '{name}' has {r.Length} elements in the float model but {c.Length} in the quantized one.");
            for (int i = 0; i < r.Length; i++)
            {
                _maxAbsDiff = Math.Max(_maxAbsDiff, Math.Abs(r[i] - c[i]));
                _dot += (double)r[i] * c[i];
                _normReference += (double)r[i] * r[i];
                _normCandidate += (double)c[i] * c[i];
            }
            int width = reference.Dimensions.Length == 0 ? 1 : Math.Max(1, reference.Dimensions[^1]);
            for (int row = 0; row + width <= r.Length; row += width)
            {
                _rows++;
                if (ArgMax(r, row, width) == ArgMax(c, row, width)) _agreeingRows++;
            }
            Count++;
        }

        /// <summary>The agreement over everything added.</summary>
        public OutputAgreement Result()
        {
            double denominator = Math.Sqrt(_normReference) * Math.Sqrt(_normCandidate);
            double cosine = denominator == 0 ? (_normReference == _normCandidate ? 1 : 0) : _dot / denominator;
            return new OutputAgreement(name, _maxAbsDiff, cosine, _rows == 0 ? 1 : (double)_agreeingRows / _rows);
        }

        private static int ArgMax(float[] values, int start, int width)
        {
            int best = start;
            for (int i = start + 1; i < start + width; i++) if (values[i] > values[best]) best = i;
            return best - start;
        }
    }
}
