return MLNet.Quantization.Cli.CliApp.Run(args, Console.Out, Console.Error);
