// Copyright (c) Keel contributors. Licensed under the MIT License.

using System.Collections.Concurrent;
using System.Text.Json;
using Keel.Core.Configs;
using Keel.Core.Flags;
using Keel.Flags;
using Keel.Flags.JsonLogic;
using Microsoft.Extensions.Options;

namespace Keel.Server.Flags;

/// <summary>
/// Flag definitions compiled once per stored version, so that an evaluation never parses a definition: each flag keeps the
/// last version compiled, and a stored flag's version is never reused, so a compiled entry is never taken for another.
/// </summary>
sealed class CompiledFlags(IOptions<FlagOptions> options)
{
    const int MaxEntries = 100_000;

    readonly ConcurrentDictionary<ConfigId, (long Version, FlagDefinition Flag)> _flags = new();

    public FlagResult Evaluate(ConfigEntry entry, LogicObject context, DateTimeOffset now)
    {
        if (!_flags.TryGetValue(entry.Id, out var compiled) || compiled.Version != entry.Version)
        {
            FlagDefinition flag;
            try
            {
                using var document = JsonDocument.Parse(entry.Value, new JsonDocumentOptions { MaxDepth = FlagDefinitions.MaxDepth });
                flag = FlagDefinitions.Parse(entry.Id.Key, document.RootElement, limits: options.Value.Limits, keyRule: FlagStorage.KeyRule);
            }
            catch (Exception e) when (e is JsonException or FlagDefinitionException)
            {
                // Only the flag API writes flags, and it stores checked definitions; this is a store altered by hand.
                return new FlagResult
                {
                    Key = entry.Id.Key,
                    Reason = FlagReasons.Error,
                    ErrorCode = FlagErrorCodes.ParseError,
                    ErrorDetails = $"The stored definition of flag '{entry.Id.Key}' is not valid.",
                };
            }

            if (_flags.Count >= MaxEntries)
            {
                _flags.Clear();
            }

            // A newer version replaces an older one; a reader still holding the older one may overwrite it back, which only
            // costs a compilation when the newer one is next asked for.
            compiled = (entry.Version, flag);
            _flags[entry.Id] = compiled;
        }

        return FlagEvaluator.Evaluate(compiled.Flag, context, now, options.Value.Limits);
    }
}
