// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.ComponentModel.DataAnnotations;

namespace Keel.Server.Api;

/// <summary>The limits every request is held to (<c>Keel:Limits</c>).</summary>
sealed class LimitsOptions
{
    public const string Section = "Keel:Limits";

    /// <summary>The largest value, in UTF-8 bytes, a key may hold. Larger values are refused with 413.</summary>
    [Range(1, 64 * 1024 * 1024)]
    public int MaxValueBytes { get; set; } = 1024 * 1024;

    /// <summary>The largest request body, in bytes. Larger bodies are refused with 413 before they are read in full.</summary>
    [Range(1024, 1024L * 1024 * 1024)]
    public long MaxRequestBodyBytes { get; set; } = 8L * 1024 * 1024;

    /// <summary>The longest <c>change_description</c>, in characters.</summary>
    [Range(1, 100_000)]
    public int MaxChangeDescriptionLength { get; set; } = 1000;

    /// <summary>The largest import file, in bytes; it replaces <see cref="MaxRequestBodyBytes"/> for imports.</summary>
    [Range(1024, 4L * 1024 * 1024 * 1024)]
    public long MaxImportBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>The most keys one import file may hold.</summary>
    [Range(1, 10_000_000)]
    public int MaxImportKeys { get; set; } = 100_000;
}
