// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Server.Backup;
using Keel.Server.Hosting;

if (await BackupCommands.TryRunAsync(args, Console.Out, Console.Error, CancellationToken.None) is { } exitCode)
{
    return exitCode;
}

await using var app = KeelHost.Build(args);
await app.RunAsync();
return 0;
