using VmaLockVerify.Harness.Cli;

// A failure on a thread of the harness's own (not a verb's) still ends as one line and exit 3.
AppDomain.CurrentDomain.UnhandledException += (_, e) =>
{
    if (e.ExceptionObject is Exception exception)
    {
        Environment.Exit(CommandLine.Unexpected(exception, Console.Error, args.Contains(CommandLine.Verbose, StringComparer.Ordinal)));
    }
};

return CommandLine.Run(args, Console.Out, Console.Error);
