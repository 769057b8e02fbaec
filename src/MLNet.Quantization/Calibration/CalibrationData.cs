using Microsoft.ML.OnnxRuntime;

namespace MLNet.Quantization;

/// <summary>
/// Representative inputs for static quantization and GPTQ. Static calibration reads one sample at a time, so its
/// memory does not grow with the number of samples; GPTQ keeps a copy of each sample and its values between layers
/// (see <see cref="QuantizationOptions.MaxCalibrationSamples"/>). Create one from input values, from a folder in the
/// ONNX test-data layout, or (in ML.NET) from the <c>IDataView</c> given to <c>Fit</c>.
/// </summary>
public sealed class CalibrationData
{
    private readonly Func<IReadOnlyList<string>, IEnumerable<IReadOnlyList<NamedOnnxValue>>> _read;

    private CalibrationData(string description, Func<IReadOnlyList<string>, IEnumerable<IReadOnlyList<NamedOnnxValue>>> read)
    {
        Description = description;
        _read = read;
    }

    /// <summary>Where the samples come from, for messages.</summary>
    public string Description { get; }

    /// <summary>Samples given as ONNX Runtime input values, one list per model run, named as the model's inputs.</summary>
    /// <param name="samples">The samples; enumerated lazily, once per calibration.</param>
    public static CalibrationData FromInputs(IEnumerable<IReadOnlyList<NamedOnnxValue>> samples)
    {
        if (samples is null) throw new ArgumentNullException(nameof(samples));
        return new CalibrationData("the given input values", _ => samples);
    }

    /// <summary>
    /// Samples from a folder in the ONNX test-data layout: <c>test_data_set_*/input_N.pb</c>, where
    /// <c>input_N.pb</c> is a serialized TensorProto for the model's N-th input.
    /// </summary>
    /// <param name="directory">The folder holding the test_data_set_* folders.</param>
    public static CalibrationData FromTestDataFolder(string directory)
    {
        if (directory is null) throw new ArgumentNullException(nameof(directory));
        Calibration.TestDataFolder.Sets(directory);
        return new CalibrationData($"the test data in '{directory}'", names => Calibration.TestDataFolder.Read(directory, names));
    }

    /// <summary>Creates calibration data from a reader that is given the model's input names in order.</summary>
    internal static CalibrationData FromReader(string description, Func<IReadOnlyList<string>, IEnumerable<IReadOnlyList<NamedOnnxValue>>> read) =>
        new(description, read);

    /// <summary>The samples, for a model whose inputs are <paramref name="inputNames"/> (in order).</summary>
    internal IEnumerable<IReadOnlyList<NamedOnnxValue>> Read(IReadOnlyList<string> inputNames) => _read(inputNames);
}
