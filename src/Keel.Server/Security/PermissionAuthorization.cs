// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core;
using Keel.Core.Security;
using Keel.Server.Http;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.AspNetCore.Mvc;

namespace Keel.Server.Security;

/// <summary>The authorization policies endpoints name: one per permission, and the fallback that any API token meets.</summary>
static class KeelPolicies
{
    public const string Read = "read";
    public const string Write = "write";
    public const string Admin = "admin";
    public const string Evaluate = "evaluate";

    public static void Add(AuthorizationBuilder authorization)
    {
        authorization.AddPolicy(Read, Require(Permissions.Read));
        authorization.AddPolicy(Write, Require(Permissions.Write));
        authorization.AddPolicy(Admin, Require(Permissions.Admin));
        authorization.AddPolicy(Evaluate, new AuthorizationPolicyBuilder(TokenAuthenticationHandler.SchemeName)
            .RequireAuthenticatedUser()
            .AddRequirements(new EvaluationRequirement())
            .Build());
        authorization.SetFallbackPolicy(Require(Permissions.None));
    }

    static AuthorizationPolicy Require(Permissions permission) =>
        new AuthorizationPolicyBuilder(TokenAuthenticationHandler.SchemeName)
            .RequireAuthenticatedUser()
            .AddRequirements(new PermissionRequirement(permission))
            .Build();
}

/// <summary>An API token holding a permission; <see cref="Permissions.None"/> asks only for an API token.</summary>
sealed class PermissionRequirement(Permissions permission) : AuthorizationHandler<PermissionRequirement>, IAuthorizationRequirement
{
    public Permissions Permission { get; } = permission;

    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, PermissionRequirement requirement)
    {
        if (context.User.Identity is TokenIdentity { Token: { Kind: TokenKind.Api } token }
            && (requirement.Permission == Permissions.None || token.Has(requirement.Permission)))
        {
            context.Succeed(requirement);
        }

        return Task.CompletedTask;
    }
}

/// <summary>An evaluation token: OFREP evaluates the flags of the one service and environment the token is bound to.</summary>
sealed class EvaluationRequirement : AuthorizationHandler<EvaluationRequirement>, IAuthorizationRequirement
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, EvaluationRequirement requirement)
    {
        if (context.User.Identity is TokenIdentity { Token.Kind: TokenKind.Evaluation })
        {
            context.Succeed(requirement);
        }

        return Task.CompletedTask;
    }
}

/// <summary>Answers a refused request with a problem body that names what was missing.</summary>
sealed class ProblemAuthorizationResultHandler(IProblemDetailsService problemDetails) : IAuthorizationMiddlewareResultHandler
{
    readonly AuthorizationMiddlewareResultHandler _default = new();

    public async Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        if (!authorizeResult.Forbidden)
        {
            await _default.HandleAsync(next, context, policy, authorizeResult);
            return;
        }

        var token = context.User.Identity is TokenIdentity identity ? identity.Token : null;
        var missing = authorizeResult.AuthorizationFailure?.FailedRequirements.OfType<PermissionRequirement>().FirstOrDefault()?.Permission
            ?? Permissions.None;
        ProblemDetails problem;
        if (authorizeResult.AuthorizationFailure?.FailedRequirements.OfType<EvaluationRequirement>().Any() == true)
        {
            problem = Problems.Create(
                KeelError.Forbidden, $"Token '{token?.Name}' is an API token; OFREP evaluates the flags of one service and environment, for an evaluation token bound to them.");
        }
        else if (token?.Kind == TokenKind.Evaluation)
        {
            problem = Problems.Create(KeelError.Forbidden, $"Token '{token.Name}' is an evaluation token; it can call only the OFREP endpoints.");
        }
        else if (missing == Permissions.None)
        {
            problem = Problems.Create(KeelError.Forbidden, "The token may not call this endpoint.");
        }
        else
        {
            var name = PermissionNames.ToWireName(missing);
            problem = Problems.Create(KeelError.Forbidden, $"Token '{token?.Name}' lacks the '{name}' permission this endpoint requires.");
            problem.Extensions["missing_permission"] = name;
        }

        context.Response.StatusCode = StatusCodes.Status403Forbidden;
        await problemDetails.WriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem });
    }
}
