// Copyright (c) Keel contributors. Licensed under the MIT License.

namespace Keel.Core.Security;

/// <summary>What an API token may do, within its scopes.</summary>
[Flags]
public enum Permissions
{
    /// <summary>Nothing.</summary>
    None = 0,

    /// <summary>Read configuration; encrypted values come back masked.</summary>
    Read = 1,

    /// <summary>Create, update, delete and roll back configuration.</summary>
    Write = 2,

    /// <summary>See the plaintext of encrypted values that the token may read.</summary>
    SecretsRead = 4,

    /// <summary>Manage tokens, read the audit trail, rotate encryption keys; implies every other permission.</summary>
    Admin = 8,
}

/// <summary>The wire names of <see cref="Permissions"/>.</summary>
public static class PermissionNames
{
    static readonly (Permissions Permission, string Name)[] AllPermissions =
    [
        (Permissions.Read, WireNames.Permissions.Read),
        (Permissions.Write, WireNames.Permissions.Write),
        (Permissions.SecretsRead, WireNames.Permissions.SecretsRead),
        (Permissions.Admin, WireNames.Permissions.Admin),
    ];

    /// <summary>Every permission's wire name, in a fixed order.</summary>
    public static IReadOnlyList<string> All { get; } = [.. AllPermissions.Select(p => p.Name)];

    /// <summary>Parses one wire name.</summary>
    /// <param name="name">The name, such as <c>secrets:read</c>.</param>
    /// <param name="permission">The permission, when the name is known.</param>
    public static bool TryParse(string? name, out Permissions permission)
    {
        foreach (var (p, n) in AllPermissions)
        {
            if (string.Equals(n, name, StringComparison.Ordinal))
            {
                permission = p;
                return true;
            }
        }

        permission = Permissions.None;
        return false;
    }

    /// <summary>The wire names of the permissions set in <paramref name="permissions"/>, in a fixed order.</summary>
    public static IReadOnlyList<string> ToWireNames(Permissions permissions) =>
        [.. AllPermissions.Where(p => (permissions & p.Permission) != 0).Select(p => p.Name)];

    /// <summary>The wire name of a single permission.</summary>
    public static string ToWireName(Permissions permission) =>
        AllPermissions.Single(p => p.Permission == permission).Name;

    /// <summary>The stored form of a set of permissions: their wire names, separated by spaces.</summary>
    public static string ToStored(Permissions permissions) => string.Join(' ', ToWireNames(permissions));

    /// <summary>Reads the stored form back; names this version does not know are left out.</summary>
    public static Permissions ParseStored(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var permissions = Permissions.None;
        foreach (var name in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (TryParse(name, out var permission))
            {
                permissions |= permission;
            }
        }

        return permissions;
    }
}
