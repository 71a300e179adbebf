// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Server.Hosting;

await using var app = KeelHost.Build(args);
await app.RunAsync();
