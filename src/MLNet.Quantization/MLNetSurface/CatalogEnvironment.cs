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
}
