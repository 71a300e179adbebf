// Copyright (c) Keel contributors. Licensed under the MIT License.

namespace Keel.Server.Tests.Infrastructure;

/// <summary>Races, load and child processes run alone, so that they neither slow the other tests nor are starved by them.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SoakCollection
{
    public const string Name = "Soak";
}
