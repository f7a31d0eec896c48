using VmaLockVerify.Harness.Cli;

return CommandLine.Run(args, Console.Out, Console.Error);
