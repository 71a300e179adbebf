// Copyright (c) Keel contributors. Licensed under the MIT License.

using CsCheck;

namespace Keel.Tests.Fuzzing;

/// <summary>
/// Generated text for the parser fuzz tests of every test project (the file is linked into each): random text and mutations
/// of valid seeds, and the replay of a kept corpus. Inputs that once broke a parser live in <c>Fuzzing/Corpus/&lt;target&gt;</c>.
/// </summary>
static class FuzzInput
{
    // Structure characters weigh heavily, so that generated text reaches deep into each grammar; the rest covers letters,
    // digits, whitespace, controls, NUL, non-ASCII and both halves of surrogate pairs.
    static readonly Gen<char> Chars = Gen.Frequency(
        (6, Gen.Char["{}[]\":,'\n\r\t -#=&*!|>%@?.\\/$0123456789eE+"]),
        (4, Gen.Char['a', 'z']),
        (1, Gen.Char['\0', '\u001f']),
        (1, Gen.Char["éß€\u00a0\u200b\ufeff\ud83d\ude00\ud800\udfff"]));

    static readonly Gen<string> Text = Chars.Array[0, 300].Select(c => new string(c));

    /// <summary>Random text one time in three, else one of <paramref name="seeds"/> with a piece inserted, cut, or repeated.</summary>
    public static Gen<string> TextAndMutationsOf(string[] seeds) => Gen.Frequency(
        (1, Text),
        (2, Gen.Select(Gen.Int[0, seeds.Length - 1], Gen.Int[0, 6], Text, Gen.Int, Gen.Int)
            .Select((seed, kind, insert, at, length) => Mutate(seeds[seed], kind, insert, at, length))));

    /// <summary>Runs every kept input of <paramref name="target"/> through <paramref name="check"/>.</summary>
    public static void Replay(string target, Action<string> check)
    {
        var folder = Path.Combine(AppContext.BaseDirectory, "Fuzzing", "Corpus", target);
        var inputs = Directory.GetFiles(folder);
        Assert.NotEmpty(inputs);
        foreach (var input in inputs)
        {
            check(File.ReadAllText(input));
        }
    }

    static string Mutate(string seed, int kind, string insert, int at, int length)
    {
        var position = (int)((uint)at % (uint)(seed.Length + 1));
        var span = (int)((uint)length % (uint)Math.Max(1, seed.Length - position + 1));
        return kind switch
        {
            0 => seed.Insert(position, insert),
            1 => seed.Remove(position, span),
            2 => seed.Remove(position, span).Insert(position, insert),
            3 => seed[..position],
            4 => seed + seed[position..],
            5 => new string('[', span % 200) + seed,
            _ => seed.Replace('"', insert.Length > 0 ? insert[0] : '\''),
        };
    }
}
