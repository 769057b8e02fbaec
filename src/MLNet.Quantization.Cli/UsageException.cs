namespace MLNet.Quantization.Cli;

/// <summary>A command line whose options do not fit together; reported with exit code 2.</summary>
internal sealed class UsageException : Exception
{
    /// <summary>Creates the exception with the message shown to the user.</summary>
    public UsageException(string message)
        : base(message)
    {
    }
}
