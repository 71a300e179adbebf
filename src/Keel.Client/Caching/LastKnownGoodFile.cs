// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Keel.Client.Http;
using Microsoft.Extensions.Logging;

namespace Keel.Client.Caching;

/// <summary>
/// A last-known-good copy of what a provider or flag client read, for starts while Keel is unreachable. The file is
/// replaced atomically (a temporary file in the same folder, then a rename), at most every <see cref="MinWriteInterval"/>,
/// readable and writable by the process's user only, in a folder created owner-only. It names the server and selection it
/// belongs to, so that a file of another one, a corrupt one or one of another format is ignored with a warning. Callers
/// never hand it an encrypted value.
/// </summary>
sealed class LastKnownGoodFile : IDisposable
{
    public const string Format = "keel-client-cache/1";

    /// <summary>The least time between two writes; changes in between are written together.</summary>
    public static readonly TimeSpan MinWriteInterval = TimeSpan.FromSeconds(5);

    const UnixFileMode OwnerOnlyFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    const UnixFileMode OwnerOnlyFolder = OwnerOnlyFile | UnixFileMode.UserExecute;
    const UnixFileMode OpenToOthers = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
        | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    readonly string _directory;
    readonly string _kind;
    readonly string _identity;
    readonly TimeProvider _time;
    readonly Func<ILogger> _logger;
    readonly Lock _lock = new();
    Func<JsonElement>? _pending;
    Task _writer = Task.CompletedTask;
    long _lastWrite;
    bool _disposed;

    public LastKnownGoodFile(string directory, string kind, string identity, TimeProvider time, Func<ILogger> logger)
    {
        _directory = directory;
        _kind = kind;
        _identity = identity;
        _time = time;
        _logger = logger;
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(kind + "\n" + identity)))[..16];
        Path = System.IO.Path.Combine(directory, $"keel-{kind}-{hash}.json");
    }

    public string Path { get; }

    /// <summary>The payload of the file, or <see langword="null"/> (with a warning) when there is none Keel wrote for this identity.</summary>
    public T? Read<T>(JsonTypeInfo<T> payloadType)
        where T : class
    {
        if (!File.Exists(Path))
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(Path));
            var file = document.RootElement.Deserialize(KeelWireContext.Default.CacheFile);
            if (file is null || file.Format != Format || file.Kind != _kind)
            {
                Log.CacheIgnored(_logger(), Path, "it is not a Keel cache file of this format");
                return null;
            }

            if (file.Identity != _identity)
            {
                Log.CacheIgnored(_logger(), Path, "it belongs to another server or selection");
                return null;
            }

            return file.Payload.Deserialize(payloadType);
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException or NotSupportedException)
        {
            Log.CacheIgnored(_logger(), Path, "it cannot be read as a Keel cache file");
            return null;
        }
    }

    /// <summary>Writes what <paramref name="payload"/> gives when the write interval allows; a later call before then replaces it.</summary>
    public void Schedule(Func<JsonElement> payload)
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            var idle = _pending is null;
            _pending = payload;
            if (idle)
            {
                using (ExecutionContext.SuppressFlow())
                {
                    _writer = Task.Run(WriteWhenDueAsync);
                }
            }
        }
    }

    /// <summary>Writes what is pending now.</summary>
    public void Flush()
    {
        Func<JsonElement>? payload;
        lock (_lock)
        {
            payload = _pending;
            _pending = null;
        }

        if (payload is not null)
        {
            Write(payload());
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
        }

        Flush();
    }

    async Task WriteWhenDueAsync()
    {
        var wait = MinWriteInterval - _time.GetElapsedTime(Interlocked.Read(ref _lastWrite));
        if (_lastWrite != 0 && wait > TimeSpan.Zero)
        {
            await Task.Delay(wait, _time).ConfigureAwait(false);
        }

        Flush();
    }

    void Write(JsonElement payload)
    {
        var temporary = System.IO.Path.Combine(_directory, $".{System.IO.Path.GetFileName(Path)}.{Guid.NewGuid():N}.tmp");
        try
        {
            EnsureFolder();
            var file = new CacheFile(Format, _kind, _identity, _time.GetUtcNow(), payload);
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = OwnerOnlyFile;
            }

            using (var stream = new FileStream(temporary, options))
            {
                JsonSerializer.Serialize(stream, file, KeelWireContext.Default.CacheFile);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, Path, overwrite: true);
            Interlocked.Exchange(ref _lastWrite, _time.GetTimestamp());
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Log.CacheWriteFailed(_logger(), Path, e);
            try
            {
                File.Delete(temporary);
            }
            catch (Exception cleanup) when (cleanup is IOException or UnauthorizedAccessException)
            {
                // The temporary file is owner-only and ignored by readers; it is left for the next start to overwrite.
            }
        }
    }

    void EnsureFolder()
    {
        if (Directory.Exists(_directory))
        {
            if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(_directory) & OpenToOthers) != 0)
            {
                Log.CacheFolderOpen(_logger(), _directory);
            }

            return;
        }

        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(_directory);
        }
        else
        {
            Directory.CreateDirectory(_directory, OwnerOnlyFolder);
        }
    }
}
