namespace MLNet.Quantization.Onnx;

/// <summary>
/// Keeps the garbage of tensor-at-a-time work bounded. Each weight read or quantized is a large array that dies at
/// once, but the GC, sizing its budget to the machine's memory, may let gigabytes of them pile up before a full
/// collection; on a model larger than memory that garbage, not the model, would set the peak working set.
/// </summary>
internal static class GarbageBound
{
    /// <summary>A full collection runs once this many bytes were allocated since the last one.</summary>
    public const long AllocationBudgetBytes = 64L * 1024 * 1024;

    private static long _allocatedAtLastCollection;

    /// <summary>Collects when more than <see cref="AllocationBudgetBytes"/> were allocated since the last collection here.</summary>
    public static void Check()
    {
        long allocated = GC.GetTotalAllocatedBytes();
        if (allocated - Interlocked.Read(ref _allocatedAtLastCollection) < AllocationBudgetBytes) return;
        GC.Collect();
        Interlocked.Exchange(ref _allocatedAtLastCollection, GC.GetTotalAllocatedBytes());
    }
}
