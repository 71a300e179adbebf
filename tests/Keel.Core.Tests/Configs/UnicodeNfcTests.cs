// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core.Configs;

namespace Keel.Core.Tests.Configs;

public class UnicodeNfcTests
{
    /// <summary>
    /// Lines of Unicode's NormalizationTest.txt (source, NFC): all of part 0 (specific cases), every 60th line of part 2
    /// (canonical order) and every 10th of part 3 (PRI #29).
    /// </summary>
    [Theory]
    [InlineData("\u1E0A", "\u1E0A")]
    [InlineData("\u1E0C", "\u1E0C")]
    [InlineData("\u1E0A\u0323", "\u1E0C\u0307")]
    [InlineData("\u1E0C\u0307", "\u1E0C\u0307")]
    [InlineData("D\u0307\u0323", "\u1E0C\u0307")]
    [InlineData("D\u0323\u0307", "\u1E0C\u0307")]
    [InlineData("\u1E0A\u031B", "\u1E0A\u031B")]
    [InlineData("\u1E0C\u031B", "\u1E0C\u031B")]
    [InlineData("\u1E0A\u031B\u0323", "\u1E0C\u031B\u0307")]
    [InlineData("\u1E0C\u031B\u0307", "\u1E0C\u031B\u0307")]
    [InlineData("D\u031B\u0307\u0323", "\u1E0C\u031B\u0307")]
    [InlineData("D\u031B\u0323\u0307", "\u1E0C\u031B\u0307")]
    [InlineData("\u00C8", "\u00C8")]
    [InlineData("\u0112", "\u0112")]
    [InlineData("E\u0300", "\u00C8")]
    [InlineData("E\u0304", "\u0112")]
    [InlineData("\u1E14", "\u1E14")]
    [InlineData("\u0112\u0300", "\u1E14")]
    [InlineData("\u1E14\u0304", "\u1E14\u0304")]
    [InlineData("E\u0304\u0300", "\u1E14")]
    [InlineData("E\u0300\u0304", "\u00C8\u0304")]
    [InlineData("\u05B8\u05B9\u05B1\u0591\u05C3\u05B0\u05AC\u059F", "\u05B1\u05B8\u05B9\u0591\u05C3\u05B0\u05AC\u059F")]
    [InlineData("\u0592\u05B7\u05BC\u05A5\u05B0\u05C0\u05C4\u05AD", "\u05B0\u05B7\u05BC\u05A5\u0592\u05C0\u05AD\u05C4")]
    [InlineData("\u1100\uAC00\u11A8", "\u1100\uAC01")]
    [InlineData("\u1100\uAC00\u11A8\u11A8", "\u1100\uAC01\u11A8")]
    [InlineData("\u01C4\u0323", "\u01C4\u0323")]
    [InlineData("\u01C5\u0323", "\u01C5\u0323")]
    [InlineData("\u01C6\u0323", "\u01C6\u0323")]
    [InlineData("\u0DDD\u0334", "\u0DDD\u0334")]
    [InlineData("\u3304\u0334", "\u3304\u0334")]
    [InlineData("\u3307\u0334", "\u3307\u0334")]
    [InlineData("\u3310\u0334", "\u3310\u0334")]
    [InlineData("\u331E\u0334", "\u331E\u0334")]
    [InlineData("\u3321\u0334", "\u3321\u0334")]
    [InlineData("\u3332\u0334", "\u3332\u0334")]
    [InlineData("\u333B\u0334", "\u333B\u0334")]
    [InlineData("\u3340\u0334", "\u3340\u0334")]
    [InlineData("\u334B\u0334", "\u334B\u0334")]
    [InlineData("\u334E\u0334", "\u334E\u0334")]
    [InlineData("\uFEF5\u0656", "\uFEF5\u0656")]
    [InlineData("\uFEF6\u0656", "\uFEF6\u0656")]
    [InlineData("\uFEF7\u0656", "\uFEF7\u0656")]
    [InlineData("\uFEF8\u0656", "\uFEF8\u0656")]
    [InlineData("\uFEF9\u0334", "\uFEF9\u0334")]
    [InlineData("\uFEFA\u0334", "\uFEFA\u0334")]
    [InlineData("a\u0315\u0300\u05AE\u0300b", "\u00E0\u05AE\u0300\u0315b")]
    [InlineData("a\u059A\u0316\u1DFA\u031Eb", "a\u1DFA\u0316\u031E\u059Ab")]
    [InlineData("a\u059A\u0316\u1DFA\u033Cb", "a\u1DFA\u0316\u033C\u059Ab")]
    [InlineData("a\u0315\u0300\u05AE\u035Bb", "\u00E0\u05AE\u035B\u0315b")]
    [InlineData("a\u0315\u0300\u05AE\u0595b", "\u00E0\u05AE\u0595\u0315b")]
    [InlineData("a\u05B4\u05B3\u05B2\u05B3b", "a\u05B2\u05B3\u05B3\u05B4b")]
    [InlineData("a\u0618\u064D\u064C\u064Db", "a\u064C\u064D\u064D\u0618b")]
    [InlineData("a\u0315\u0300\u05AE\u06E2b", "\u00E0\u05AE\u06E2\u0315b")]
    [InlineData("a\u059A\u0316\u1DFA\u0744b", "a\u1DFA\u0316\u0744\u059Ab")]
    [InlineData("a\u0315\u0300\u05AE\u0825b", "\u00E0\u05AE\u0825\u0315b")]
    [InlineData("a\u0315\u0300\u05AE\u08D4b", "\u00E0\u05AE\u08D4\u0315b")]
    [InlineData("a\u0315\u0300\u05AE\u08F3b", "\u00E0\u05AE\u08F3\u0315b")]
    [InlineData("a\u05B0\u094D\u3099\u0C4Db", "a\u3099\u094D\u0C4D\u05B0b")]
    [InlineData("a\u0321\u0F74\u0F72\u0F74b", "a\u0F72\u0F74\u0F74\u0321b")]
    [InlineData("a\u05B0\u094D\u3099\u1A60b", "a\u3099\u094D\u1A60\u05B0b")]
    [InlineData("a\u0315\u0300\u05AE\u1AC5b", "\u00E0\u05AE\u1AC5\u0315b")]
    [InlineData("a\U00016FF0\u0334\u1CD4b", "a\u0334\u1CD4\U00016FF0b")]
    [InlineData("a\u0315\u0300\u05AE\u1DC6b", "\u00E0\u05AE\u1DC6\u0315b")]
    [InlineData("a\u0315\u0300\u05AE\u1DE4b", "\u00E0\u05AE\u1DE4\u0315b")]
    [InlineData("a\U00016FF0\u0334\u20D2b", "a\u0334\u20D2\U00016FF0b")]
    [InlineData("a\u0315\u0300\u05AE\u2DE2b", "\u00E0\u05AE\u2DE2\u0315b")]
    [InlineData("a\u0316\u1DFA\u031B\u302Ab", "a\u031B\u1DFA\u302A\u0316b")]
    [InlineData("a\u0315\u0300\u05AE\uA8E4b", "\u00E0\u05AE\uA8E4\u0315b")]
    [InlineData("a\u05B0\u094D\u3099\uABEDb", "a\u3099\u094D\uABED\u05B0b")]
    [InlineData("a\u05B0\u094D\u3099\U00010A3Fb", "a\u3099\u094D\U00010A3F\u05B0b")]
    [InlineData("a\u0315\u0300\u05AE\U00010F84b", "\u00E0\u05AE\U00010F84\u0315b")]
    [InlineData("a\u0315\u0300\u05AE\U00011371b", "\u00E0\u05AE\U00011371\u0315b")]
    [InlineData("a\u05B0\u094D\u3099\U00011D45b", "a\u3099\u094D\U00011D45\u05B0b")]
    [InlineData("a\u1DFA\u031B\u1DCE\U0001D172b", "a\u1DCE\u031B\U0001D172\u1DFAb")]
    [InlineData("a\u0315\u0300\u05AE\U0001E008b", "\u00E0\u05AE\U0001E008\u0315b")]
    [InlineData("a\u0315\u0300\u05AE\U0001E02Ab", "\u00E0\u05AE\U0001E02A\u0315b")]
    [InlineData("a\u0315\u0300\u05AE\U0001E947b", "\u00E0\u05AE\U0001E947\u0315b")]
    [InlineData("\u09C7\u0334\u09BE", "\u09C7\u0334\u09BE")]
    [InlineData("\u0CC6\u0334\u0CC2", "\u0CC6\u0334\u0CC2")]
    [InlineData("\u0F42\u0334\u0FB7", "\u0F42\u0334\u0FB7")]
    [InlineData("\u0FAB\u0334\u0FB7", "\u0FAB\u0334\u0FB7")]
    [InlineData("\u1104\u0334\u1175", "\u1104\u0334\u1175")]
    [InlineData("\u110B\u0334\u1164", "\u110B\u0334\u1164")]
    [InlineData("\u1111\u0334\u1168", "\u1111\u0334\u1168")]
    [InlineData("\u1B3C\u0334\u1B35", "\u1B3C\u0334\u1B35")]
    [InlineData("\uAF2C\u0334\u11AE", "\uAF2C\u0334\u11AE")]
    [InlineData("\uB3C4\u0334\u11B5", "\uB3C4\u0334\u11B5")]
    [InlineData("\uB85C\u0334\u11BC", "\uB85C\u0334\u11BC")]
    [InlineData("\uBD64\u0334\u11AE", "\uBD64\u0334\u11AE")]
    [InlineData("\uC1FC\u0334\u11B5", "\uC1FC\u0334\u11B5")]
    [InlineData("\uC694\u0334\u11BC", "\uC694\u0334\u11BC")]
    [InlineData("\uCB9C\u0334\u11AE", "\uCB9C\u0334\u11AE")]
    [InlineData("\uD034\u0334\u11B5", "\uD034\u0334\u11B5")]
    [InlineData("\uD4CC\u0334\u11BC", "\uD4CC\u0334\u11BC")]
    [InlineData("\U00011382\u0334\U000113C9", "\U00011382\u0334\U000113C9")]
    [InlineData("\U000115B8\u0334\U000115AF", "\U000115B8\u0334\U000115AF")]
    [InlineData("\U00016129\u0334\U0001611F", "\U00016129\u0334\U0001611F")]
    public void Normalize_GivesWhatTheUnicodeNormalizationTestGives(string source, string nfc)
    {
        Assert.Equal(nfc, UnicodeNfc.Normalize(source));
        Assert.Equal(source == nfc, UnicodeNfc.IsNormalized(source));
        Assert.True(UnicodeNfc.IsNormalized(nfc));
    }

    [Theory]
    [InlineData("db.pool.size", -1)]
    [InlineData("caf\u00E9", -1)]
    [InlineData("cafe\u0301", 3)]
    [InlineData("a\U0001F680e\u0301", 3)]
    [InlineData("\u2126", 0)]
    [InlineData("x\u0301\u0316", 1)]
    [InlineData("x\u0316\u0301", -1)]
    [InlineData("\uAC00\u11A8", 0)]
    [InlineData("\u1100\u1161\u11A8", 0)]
    [InlineData("\uAC01", -1)]
    [InlineData("a\uD800", -1)]
    public void FirstChange_GivesTheIndexOfTheFirstCharacterNfcChanges(string text, int index)
    {
        Assert.Equal(index, UnicodeNfc.FirstChange(text));
    }

    [Fact]
    public void IsNormalized_HoldsForEveryCodePointBelowU0300_AndEveryHangulSyllable()
    {
        for (var value = 0; value < 0x300; value++)
        {
            Assert.True(UnicodeNfc.IsNormalized(((char)value).ToString()));
        }

        for (var value = 0xAC00; value <= 0xD7A3; value++)
        {
            Assert.True(UnicodeNfc.IsNormalized(((char)value).ToString()));
        }
    }
}
