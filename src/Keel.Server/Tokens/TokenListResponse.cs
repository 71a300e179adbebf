// Copyright (c) Keel contributors. Licensed under the MIT License.

namespace Keel.Server.Tokens;

sealed record TokenListResponse(IReadOnlyList<TokenResponse> Tokens);
