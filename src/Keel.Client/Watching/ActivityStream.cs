// Copyright (c) Keel contributors. Licensed under the MIT License.

namespace Keel.Client.Watching;

/// <summary>
/// A read-only view of a watch stream that pushes its silence deadline back whenever bytes arrive, and remembers whether
/// any ever did: a stream that never delivers its first byte is one a proxy buffers, not one that is merely quiet.
/// </summary>
sealed class ActivityStream(Stream inner, CancellationTokenSource deadline, TimeSpan idleTimeout, Action firstBytes) : Stream
{
    public bool Received { get; private set; }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        if (read > 0)
        {
            if (!Received)
            {
                Received = true;
                firstBytes();
            }

            deadline.CancelAfter(idleTimeout);
        }

        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }
}
