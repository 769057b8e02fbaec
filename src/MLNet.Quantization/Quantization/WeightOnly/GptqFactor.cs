namespace MLNet.Quantization.WeightOnly;

/// <summary>
/// What GPTQ needs from a layer input's Hessian, made once however many weights read that input: the upper
/// triangular U with UᵀU = (H + λ·mean(diag H)·I)⁻¹ (rows and columns in visiting order), the visiting order, and the
/// inputs that never fire (zero diagonal: they get a unit diagonal, and their weight rows are zeroed since they never
/// contribute).
/// </summary>
internal sealed class GptqFactor
{
    private GptqFactor(SymmetricMatrix inverse, int[] order, int[] deadInputs, bool actOrder)
    {
        Inverse = inverse;
        Order = order;
        DeadInputs = deadInputs;
        ActOrder = actOrder;
    }

    /// <summary>U, in visiting order.</summary>
    public SymmetricMatrix Inverse { get; }

    /// <summary>Row i of <see cref="Inverse"/> is input Order[i]: by decreasing diag(H) with act-order, else 0, 1, ….</summary>
    public int[] Order { get; }

    /// <summary>Inputs whose Hessian diagonal is zero (original indices).</summary>
    public int[] DeadInputs { get; }

    /// <summary>Whether inputs are visited in act-order.</summary>
    public bool ActOrder { get; }

    /// <summary>The factor of <paramref name="hessian"/>, computed in its place (or in its permuted copy with act-order).</summary>
    /// <param name="hessian">H = Σ xᵀx; overwritten.</param>
    /// <param name="options">Damping and act-order.</param>
    public static GptqFactor Of(SymmetricMatrix hessian, WeightOnlyOptions options)
    {
        int k = hessian.Size;
        var order = options.GptqActOrder
            ? Enumerable.Range(0, k).OrderByDescending(i => hessian[i, i]).ThenBy(i => i).ToArray()
            : Enumerable.Range(0, k).ToArray();
        var dead = Enumerable.Range(0, k).Where(i => hessian[i, i] == 0).ToArray();
        double mean = 0;
        foreach (int i in dead) hessian[i, i] = 1;
        for (int i = 0; i < k; i++) mean += hessian[i, i];
        mean /= k;
        for (int i = 0; i < k; i++) hessian[i, i] += options.GptqDamping * mean;
        var visited = options.GptqActOrder ? hessian.Permuted(order) : hessian;
        TriangularFactorization.FactorFromBottom(visited);
        TriangularFactorization.InvertUpper(visited);
        return new GptqFactor(visited, order, dead, options.GptqActOrder);
    }
}
