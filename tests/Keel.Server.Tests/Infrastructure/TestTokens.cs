// Copyright (c) Keel contributors. Licensed under the MIT License.

namespace Keel.Server.Tests.Infrastructure;

/// <summary>The bootstrap admin token every test server starts with (<c>KEEL_ADMIN_TOKEN</c>).</summary>
public static class TestTokens
{
    public const string Admin = "keel-test-admin-token-0123456789abcdef";
}
