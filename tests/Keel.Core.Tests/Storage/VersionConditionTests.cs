// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core.Storage;

namespace Keel.Core.Tests.Storage;

public class VersionConditionTests
{
    [Theory]
    [InlineData(null, true, false, true, false)]
    [InlineData(3L, true, true, false, true)]
    [InlineData(4L, true, true, false, false)]
    public void IsMetBy_FollowsEachKind(long? live, bool none, bool exists, bool notExists, bool isThree)
    {
        Assert.Equal(none, VersionCondition.None.IsMetBy(live));
        Assert.Equal(exists, VersionCondition.Exists.IsMetBy(live));
        Assert.Equal(notExists, VersionCondition.NotExists.IsMetBy(live));
        Assert.Equal(isThree, VersionCondition.IsVersion(3).IsMetBy(live));
    }

    [Fact]
    public void IsAnyVersion_IsMetByAnyListedVersion_AndAnEmptyListByNone()
    {
        var oneOf = VersionCondition.IsAnyVersion([2, 5]);

        Assert.True(oneOf.IsMetBy(2));
        Assert.True(oneOf.IsMetBy(5));
        Assert.False(oneOf.IsMetBy(3));
        Assert.False(oneOf.IsMetBy(null));
        Assert.False(VersionCondition.IsAnyVersion([]).IsMetBy(1));
        Assert.False(VersionCondition.IsAnyVersion([]).IsMetBy(null));
        Assert.Contains("which the condition does not name", Assert.Throws<KeelException>(() => oneOf.EnsureMetBy(3)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EnsureMetBy_ThrowsPreconditionFailed_SayingWhatWasExpected()
    {
        var e = Assert.Throws<KeelException>(() => VersionCondition.IsVersion(3).EnsureMetBy(5));

        Assert.Equal(KeelError.PreconditionFailed, e.Error);
        Assert.Equal("Version 3 was required but the key is at version 5.", e.Message);
        Assert.Contains("already exists at version 2", Assert.Throws<KeelException>(() => VersionCondition.NotExists.EnsureMetBy(2)).Message, StringComparison.Ordinal);
        Assert.Contains("does not exist", Assert.Throws<KeelException>(() => VersionCondition.IsVersion(1).EnsureMetBy(null)).Message, StringComparison.Ordinal);
    }
}
