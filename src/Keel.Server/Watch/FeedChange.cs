// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Buffers;
using System.Buffers.Text;
using System.Text;
using System.Text.Json;
using Keel.Core;
using Keel.Core.Changes;
using Keel.Server.Http;

namespace Keel.Server.Watch;

/// <summary>
/// A change as watch streams send it: the event, and its Server-Sent Events frame, rendered once when the change enters the
/// feed and then copied as bytes to every stream that hears of it, however many there are.
/// </summary>
sealed class FeedChange
{
    static readonly byte[] EventPrefix = Encoding.UTF8.GetBytes($"event: {WireNames.Events.ConfigChange}\ndata: ");

    // The whole event: its event, data and id lines and the blank line that ends it. A stream sends the id only with the last
    // event of a revision, and most revisions have one change, so the common write is this one span.
    readonly byte[] _frame;
    readonly int _linesWithoutIdLength;

    public FeedChange(ChangeEvent change)
    {
        Change = change;
        var buffer = new ArrayBufferWriter<byte>(256);
        buffer.Write(EventPrefix);
        using (var json = new Utf8JsonWriter(buffer))
        {
            JsonSerializer.Serialize(json, ChangeEventResponse.From(change), KeelJson.Context.ChangeEventResponse);
        }

        buffer.Write("\n"u8);
        _linesWithoutIdLength = buffer.WrittenCount;
        buffer.Write("id: "u8);
        Utf8Formatter.TryFormat(change.Revision, buffer.GetSpan(20), out var written);
        buffer.Advance(written);
        buffer.Write("\n\n"u8);
        _frame = buffer.WrittenSpan.ToArray();
    }

    public ChangeEvent Change { get; }

    /// <summary>The whole event, with its <c>id</c>, ready to send.</summary>
    public ReadOnlySpan<byte> Frame => _frame;

    /// <summary>The <c>event</c> and <c>data</c> lines alone: the writer ends the event with a blank line.</summary>
    public ReadOnlySpan<byte> LinesWithoutId => _frame.AsSpan(0, _linesWithoutIdLength);
}
