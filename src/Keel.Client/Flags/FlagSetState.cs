// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Net.Http.Headers;
using System.Text.Json;
using Keel.Client.Diagnostics;
using Keel.Client.Http;
using Keel.Client.Watching;
using Keel.Flags;
using Keel.Flags.JsonLogic;

namespace Keel.Client.Flags;

/// <summary>
/// The flags of one service and environment as last read, kept current by a <see cref="ChangeWatcher"/> on the flag
/// watch. A change of any flag reads the flag file again (by ETag): a file holds every flag standing alone, so it is one
/// small read, and it is applied whole. Reads take turns, so that an older answer never replaces a newer one.
/// </summary>
sealed class FlagSetState(KeelFlagClient owner, KeelSelection selection, KeelApi api, LogicLimits limits) : IChangeTarget, IDisposable
{
    readonly SemaphoreSlim _turn = new(1, 1);

    public WatchQuery Query { get; } = new(selection.ServiceName, selection.Environment, Prefix: null, Flags: true);

    public Dictionary<string, FlagDefinition> Flags { get; private set; } = new Dictionary<string, FlagDefinition>(StringComparer.Ordinal);

    /// <summary>The flag file the flags were read from, for the file cache.</summary>
    public JsonElement? File { get; private set; }

    /// <summary>Every change up to this revision is applied.</summary>
    public long Revision { get; private set; }

    public EntityTagHeaderValue? ETag { get; private set; }

    /// <summary>Whether <see cref="Flags"/> came from Keel, not from the file cache.</summary>
    public bool Loaded { get; private set; }

    public ChangeWatcher? Watcher { get; set; }

    /// <summary>Takes the flags of a cache file; <see langword="false"/> (and nothing taken) when they cannot be read.</summary>
    public bool Restore(CachedFlags cached)
    {
        if (cached.ServiceName != selection.ServiceName || cached.Environment != selection.Environment)
        {
            return false;
        }

        try
        {
            Flags = Parse(cached.File);
        }
        catch (InvalidDataException)
        {
            return false;
        }

        File = cached.File;
        ETag = cached.ETag is { } etag && EntityTagHeaderValue.TryParse(etag, out var parsed) ? parsed : null;
        Revision = cached.Revision;
        return true;
    }

    public async Task<long> ReloadAsync(bool conditional, CancellationToken cancellationToken)
    {
        await _turn.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // The feed's revision is read first: the file read after it holds at least every change up to it, so watching
            // from it misses nothing (a change both in the file and after the revision is read twice, to the same effect).
            var revision = await api.GetRevisionAsync(Query, cancellationToken).ConfigureAwait(false);
            await ReadAsync(conditional && Loaded, cancellationToken).ConfigureAwait(false);
            Revision = Math.Max(Revision, revision);
            Loaded = true;
            owner.Publish(Revision);
            return Revision;
        }
        finally
        {
            _turn.Release();
        }
    }

    public async Task ApplyAsync(IReadOnlyList<ChangeItem> changes, long revision, CancellationToken cancellationToken)
    {
        await _turn.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var count = changes.Count(c => c.ServiceName == selection.ServiceName && c.Environment == selection.Environment);
            if (count > 0)
            {
                await ReadAsync(conditional: Loaded, cancellationToken).ConfigureAwait(false);
                ClientMetrics.ChangesApplied.Add(count, new KeyValuePair<string, object?>("kind", "flag"));
            }

            Revision = Math.Max(Revision, revision);
            Loaded = true;
            owner.Publish(Revision);
        }
        finally
        {
            _turn.Release();
        }
    }

    public void Succeeded(KeelTransport transport, long revision)
    {
        Revision = Math.Max(Revision, revision);
        owner.Succeeded(transport);
    }

    public void Failed(Exception error) => owner.Failed(error);

    public void Switched(KeelTransport transport) => owner.Switched(transport);

    public void Dispose() => _turn.Dispose();

    async Task ReadAsync(bool conditional, CancellationToken cancellationToken)
    {
        if (await api.GetFlagsAsync(selection.ServiceName, selection.Environment, conditional ? ETag : null, cancellationToken).ConfigureAwait(false) is not { } read)
        {
            return;
        }

        Flags = Parse(read.File);
        File = read.File;
        ETag = read.ETag;
    }

    Dictionary<string, FlagDefinition> Parse(JsonElement file)
    {
        try
        {
            return FlagDefinitions.ParseFile(file, limits: limits).ToDictionary(f => f.Key, StringComparer.Ordinal);
        }
        catch (FlagDefinitionException e)
        {
            Log.FlagsUnreadable(owner.Logger, selection.ToString(), e);
            throw new InvalidDataException("Keel answered with flag definitions this client cannot read: " + e.Message, e);
        }
    }
}
