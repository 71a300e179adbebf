// Copyright (c) Keel contributors. Licensed under the MIT License.

namespace Keel.Client;

/// <summary>Where the data of a provider or flag client comes from.</summary>
public enum KeelDataSource
{
    /// <summary>Nowhere yet: Keel has not answered and there was no file cache; the data is empty.</summary>
    None,

    /// <summary>The last-known-good file cache, while Keel cannot be reached.</summary>
    Cache,

    /// <summary>Keel.</summary>
    Server,
}

/// <summary>How a provider or flag client learns of changes.</summary>
public enum KeelTransport
{
    /// <summary>Not at all, yet or by choice (<see cref="KeelRefreshMode.Off"/>).</summary>
    None,

    /// <summary>A Server-Sent Events watch stream.</summary>
    Watch,

    /// <summary>Long-polls.</summary>
    LongPoll,

    /// <summary>Conditional reads at an interval.</summary>
    Poll,
}

/// <summary>A snapshot of the state of a provider or flag client.</summary>
/// <param name="Source">Where the data comes from.</param>
/// <param name="Transport">How changes are learnt of now.</param>
/// <param name="Revision">
/// The revision the data is current to: every change Keel committed up to it is applied (the least of the selections'); 0
/// before the first read.
/// </param>
/// <param name="LastSuccess">When Keel last answered a read or watch, if ever.</param>
/// <param name="LastError">The last failure, if there was one after <paramref name="LastSuccess"/>.</param>
public sealed record KeelRefreshStatus(
    KeelDataSource Source,
    KeelTransport Transport,
    long Revision,
    DateTimeOffset? LastSuccess,
    Exception? LastError);
