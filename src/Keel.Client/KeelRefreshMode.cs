// Copyright (c) Keel contributors. Licensed under the MIT License.

namespace Keel.Client;

/// <summary>How a Keel configuration provider or flag client learns of changes after its first load.</summary>
public enum KeelRefreshMode
{
    /// <summary>
    /// A Server-Sent Events watch, falling back to long-poll where streams do not get through (a buffering proxy, an endpoint
    /// that is not there, repeated stream failures) and trying the stream again later. The default.
    /// </summary>
    Watch,

    /// <summary>Long-polls only: each request is held by the server until a change or its wait ends.</summary>
    LongPoll,

    /// <summary>A conditional read of all the data every <see cref="KeelRefreshOptions.PollInterval"/>.</summary>
    Poll,

    /// <summary>No background refresh: the data changes only through <see cref="Configuration.IKeelConfigurationRefresher.RefreshAsync"/> (or <see cref="Flags.KeelFlagClient.RefreshAsync"/>).</summary>
    Off,
}
