using System.Reflection;
using Microsoft.ML;
using Microsoft.ML.Runtime;

namespace MLNet.Quantization;

/// <summary>
/// Finds the <see cref="IHostEnvironment"/> (the MLContext) behind a <see cref="TransformsCatalog"/>, so that
/// quantization can log to <c>MLContext.Log</c>. ML.NET keeps it behind its internal IInternalCatalog interface;
/// when it cannot be found (a future ML.NET), logging is skipped and nothing else changes.
/// </summary>
internal static class CatalogEnvironment
{
    /// <summary>The catalog's environment, or null when it cannot be reached.</summary>
    public static IHostEnvironment? Find(TransformsCatalog catalog)
    {
        var internalCatalog = catalog.GetType().GetInterfaces().FirstOrDefault(i => i.Name == "IInternalCatalog");
        var property = internalCatalog?.GetProperty("Environment", BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic);
        try
        {
            return property?.GetValue(catalog) as IHostEnvironment;
        }
        catch (TargetInvocationException)
        {
            return null;
        }
    }

    /// <summary>
    /// The MLContext's <c>GpuDeviceId</c> and <c>FallbackToCpu</c>, read from ML.NET's internal environment interface;
    /// (null, false) when they cannot be reached.
    /// </summary>
    public static (int? GpuDeviceId, bool FallbackToCpu) Device(IHostEnvironment? environment)
    {
        var carrier = environment?.GetType().GetInterfaces().FirstOrDefault(i => i.GetProperty("GpuDeviceId") is not null && i.GetProperty("FallbackToCpu") is not null);
        if (carrier is null) return (null, false);
        try
        {
            return (carrier.GetProperty("GpuDeviceId")!.GetValue(environment) as int?, carrier.GetProperty("FallbackToCpu")!.GetValue(environment) is true);
        }
        catch (TargetInvocationException)
        {
            return (null, false);
        }
    }
}
