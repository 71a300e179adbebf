// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Text;

namespace Keel.Core.Configs;

/// <summary>
/// Unicode Normalization Form C (NFC, UAX #15), to tell whether a text is in it. .NET's <see cref="string.IsNormalized()"/> and
/// <see cref="string.Normalize()"/> need ICU: under invariant globalization, which Keel runs with, they call every text
/// normalized and return it unchanged. The tables in <c>UnicodeNfc.Data.cs</c>, generated from the Unicode Character Database
/// by <c>tools/generate-unicode-nfc.mjs</c>, make NFC independent of the host.
/// </summary>
/// <remarks>
/// NFC is the text's canonical decomposition, its combining marks in canonical order (a stable sort by combining class within
/// each run of marks), recomposed: a character joins the last starter before it when nothing between them has class 0 or a
/// class at least its own, and the pair has a primary composite, one not excluded from composition. Hangul syllables
/// decompose and compose arithmetically. A text is in NFC when that gives it back unchanged.
/// </remarks>
static partial class UnicodeNfc
{
    const int HangulFirst = 0xAC00;
    const int LeadingFirst = 0x1100;
    const int VowelFirst = 0x1161;
    const int TrailingBase = 0x11A7;
    const int LeadingCount = 19;
    const int VowelCount = 21;
    const int TrailingCount = 28;
    const int SyllablesPerLeading = VowelCount * TrailingCount;
    const int HangulCount = LeadingCount * SyllablesPerLeading;

    static readonly Dictionary<int, byte> CombiningClasses = ReadCombiningClasses();
    static readonly Dictionary<int, (int First, int Second)> Decompositions = ReadDecompositions();
    static readonly Dictionary<long, int> Compositions = ReadCompositions();

    /// <summary>Whether <paramref name="text"/> is in NFC.</summary>
    public static bool IsNormalized(ReadOnlySpan<char> text) => FirstChange(text) < 0;

    /// <summary>
    /// The UTF-16 index of the first character NFC changes (decomposes, composes with others or moves), or -1 when the text is
    /// in NFC. An unpaired surrogate is taken as a character NFC leaves alone.
    /// </summary>
    public static int FirstChange(ReadOnlySpan<char> text)
    {
        var start = 0;
        while (start < text.Length && text[start] < FirstChangeable)
        {
            start++;
        }

        if (start == text.Length)
        {
            return -1;
        }

        // A character below FirstChangeable is a starter that composes with nothing before it, so the text up to it is final;
        // the last one before the first changeable character is normalized with the rest, since that character may compose onto it.
        if (start > 0)
        {
            start--;
        }

        var source = CodePoints(text[start..]);
        var normalized = Normalize(source);
        for (var i = 0; i < source.Count; i++)
        {
            if (i >= normalized.Count || source[i].Value != normalized[i])
            {
                return start + source[i].Index;
            }
        }

        return normalized.Count == source.Count ? -1 : start + source[^1].Index;
    }

    /// <summary>The NFC of <paramref name="text"/>.</summary>
    public static string Normalize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var normalized = Normalize(CodePoints(text));
        var builder = new StringBuilder(text.Length);
        foreach (var value in normalized)
        {
            builder.Append(Rune.IsValid(value) ? new Rune(value).ToString() : ((char)value).ToString());
        }

        return builder.ToString();
    }

    static List<(int Value, int Index)> CodePoints(ReadOnlySpan<char> text)
    {
        var points = new List<(int, int)>(text.Length);
        for (var index = 0; index < text.Length;)
        {
            if (Rune.DecodeFromUtf16(text[index..], out var rune, out var consumed) == System.Buffers.OperationStatus.Done)
            {
                points.Add((rune.Value, index));
                index += consumed;
            }
            else
            {
                points.Add((text[index], index));
                index++;
            }
        }

        return points;
    }

    static List<int> Normalize(List<(int Value, int Index)> source)
    {
        var buffer = new List<int>(source.Count * 2);
        foreach (var (value, _) in source)
        {
            Decompose(value, buffer);
        }

        Reorder(buffer);
        Compose(buffer);
        return buffer;
    }

    static void Decompose(int value, List<int> buffer)
    {
        var syllable = value - HangulFirst;
        if (syllable is >= 0 and < HangulCount)
        {
            buffer.Add(LeadingFirst + (syllable / SyllablesPerLeading));
            buffer.Add(VowelFirst + (syllable % SyllablesPerLeading / TrailingCount));
            if (syllable % TrailingCount != 0)
            {
                buffer.Add(TrailingBase + (syllable % TrailingCount));
            }
        }
        else if (Decompositions.TryGetValue(value, out var parts))
        {
            Decompose(parts.First, buffer);
            if (parts.Second != 0)
            {
                Decompose(parts.Second, buffer);
            }
        }
        else
        {
            buffer.Add(value);
        }
    }

    /// <summary>Puts each run of combining marks in canonical order: an insertion sort by class, which keeps equal classes in place.</summary>
    static void Reorder(List<int> buffer)
    {
        for (var i = 1; i < buffer.Count; i++)
        {
            var value = buffer[i];
            var combiningClass = ClassOf(value);
            if (combiningClass == 0)
            {
                continue;
            }

            var j = i;
            while (j > 0 && ClassOf(buffer[j - 1]) > combiningClass)
            {
                buffer[j] = buffer[j - 1];
                j--;
            }

            buffer[j] = value;
        }
    }

    static void Compose(List<int> buffer)
    {
        if (buffer.Count == 0)
        {
            return;
        }

        var starter = 0;

        // The class of the last character kept after the starter; 0 while the starter is the last one kept. A text that begins
        // with a mark has no starter to compose onto until one comes, which 256 (above every class) stands for.
        var lastClass = ClassOf(buffer[0]) == 0 ? 0 : 256;
        var kept = 1;
        for (var i = 1; i < buffer.Count; i++)
        {
            var value = buffer[i];
            var combiningClass = ClassOf(value);
            if ((lastClass < combiningClass || lastClass == 0) && Composite(buffer[starter], value) is { } composite)
            {
                buffer[starter] = composite;
                continue;
            }

            if (combiningClass == 0)
            {
                starter = kept;
            }

            lastClass = combiningClass;
            buffer[kept++] = value;
        }

        buffer.RemoveRange(kept, buffer.Count - kept);
    }

    static int? Composite(int first, int second)
    {
        var leading = first - LeadingFirst;
        if (leading is >= 0 and < LeadingCount)
        {
            var vowel = second - VowelFirst;
            return vowel is >= 0 and < VowelCount ? HangulFirst + (((leading * VowelCount) + vowel) * TrailingCount) : null;
        }

        var syllable = first - HangulFirst;
        if (syllable is >= 0 and < HangulCount && syllable % TrailingCount == 0)
        {
            var trailing = second - TrailingBase;
            return trailing is > 0 and < TrailingCount ? first + trailing : null;
        }

        return Compositions.TryGetValue(Pair(first, second), out var composite) ? composite : null;
    }

    static int ClassOf(int value) => value < FirstChangeable ? 0 : CombiningClasses.GetValueOrDefault(value);

    static long Pair(int first, int second) => ((long)first << 21) | (uint)second;

    static Dictionary<int, byte> ReadCombiningClasses()
    {
        var runs = CombiningClassRuns;
        var classes = new Dictionary<int, byte>();
        for (var i = 0; i < runs.Length; i += 3)
        {
            for (var value = runs[i]; value <= runs[i + 1]; value++)
            {
                classes.Add(value, (byte)runs[i + 2]);
            }
        }

        return classes;
    }

    static Dictionary<int, (int, int)> ReadDecompositions()
    {
        var triples = DecompositionTriples;
        var decompositions = new Dictionary<int, (int, int)>(triples.Length / 3);
        for (var i = 0; i < triples.Length; i += 3)
        {
            decompositions.Add(triples[i], (triples[i + 1], triples[i + 2]));
        }

        return decompositions;
    }

    static Dictionary<long, int> ReadCompositions()
    {
        var composites = PrimaryComposites;
        var compositions = new Dictionary<long, int>(composites.Length);
        foreach (var composite in composites)
        {
            var (first, second) = Decompositions[composite];
            compositions.Add(Pair(first, second), composite);
        }

        return compositions;
    }
}
