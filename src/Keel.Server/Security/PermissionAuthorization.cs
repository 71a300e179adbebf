// Copyright (c) Keel contributors. Licensed under the MIT License.

using Keel.Core;
using Keel.Core.Security;
using Keel.Server.Http;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Infrastructure;
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
        authorization.AddPolicy(Evaluate, new AuthorizationPolicyBuilder()
            .RequireAuthenticatedUser()
            .AddRequirements(new EvaluationRequirement())
            .Build());
        authorization.SetFallbackPolicy(Require(Permissions.None));
    }

    // No policy names the scheme: bearer tokens are the default and only one, so a policy reads the principal that the
    // authentication middleware set, where naming the scheme would authenticate again and copy every claim into a new one.
    static AuthorizationPolicy Require(Permissions permission) =>
        new AuthorizationPolicyBuilder()
            .RequireAuthenticatedUser()
            .AddRequirements(new PermissionRequirement(permission))
            .Build();
}

/// <summary>An API token holding a permission; <see cref="Permissions.None"/> asks only for an API token.</summary>
sealed class PermissionRequirement(Permissions permission) : AuthorizationHandler<PermissionRequirement>, IAuthorizationRequirement
{
    public Permissions Permission { get; } = permission;

    public bool IsMetBy(AccessToken token) => token.Kind == TokenKind.Api && (Permission == Permissions.None || token.Has(Permission));

    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, PermissionRequirement requirement)
    {
        if (context.User.Identity is TokenIdentity { Token: var token } && requirement.IsMetBy(token))
        {
            context.Succeed(requirement);
        }

        return Task.CompletedTask;
    }
}

/// <summary>An evaluation token: OFREP evaluates the flags of the one service and environment the token is bound to.</summary>
sealed class EvaluationRequirement : AuthorizationHandler<EvaluationRequirement>, IAuthorizationRequirement
{
    public static bool IsMetBy(AccessToken token) => token.Kind == TokenKind.Evaluation;

    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, EvaluationRequirement requirement)
    {
        if (context.User.Identity is TokenIdentity { Token: var token } && IsMetBy(token))
        {
            context.Succeed(requirement);
        }

        return Task.CompletedTask;
    }
}

/// <summary>
/// The framework's policy evaluation, with a shortcut for the policies Keel defines: when a token meets every requirement of
/// the policy, it succeeds without building a handler context per request. Anything else (no token, a requirement unmet or of
/// another kind) is evaluated by the framework, so that every refusal carries the framework's failure.
/// </summary>
sealed class TokenPolicyEvaluator : IPolicyEvaluator
{
    static readonly PolicyAuthorizationResult Succeeded = PolicyAuthorizationResult.Success();

    // A policy that names no scheme is met by what the authentication middleware found, as the framework's evaluator answers
    // too; a succeeded result is taken as it is, without building that evaluator per request.
    public Task<AuthenticateResult> AuthenticateAsync(AuthorizationPolicy policy, HttpContext context) =>
        policy.AuthenticationSchemes.Count == 0 && context.Features.Get<IAuthenticateResultFeature>()?.AuthenticateResult is { Succeeded: true } result
            ? Task.FromResult(result)
            : Framework(context).AuthenticateAsync(policy, context);

    public Task<PolicyAuthorizationResult> AuthorizeAsync(
        AuthorizationPolicy policy, AuthenticateResult authenticationResult, HttpContext context, object? resource) =>
        authenticationResult.Succeeded && context.User.Identity is TokenIdentity { IsAuthenticated: true, Token: var token } && MeetsAll(policy, token)
            ? Task.FromResult(Succeeded)
            : Framework(context).AuthorizeAsync(policy, authenticationResult, context, resource);

    static bool MeetsAll(AuthorizationPolicy policy, AccessToken token)
    {
        foreach (var requirement in policy.Requirements)
        {
            var met = requirement switch
            {
                DenyAnonymousAuthorizationRequirement => true,
                PermissionRequirement permission => permission.IsMetBy(token),
                EvaluationRequirement => EvaluationRequirement.IsMetBy(token),
                _ => false,
            };
            if (!met)
            {
                return false;
            }
        }

        return true;
    }

    static PolicyEvaluator Framework(HttpContext context) => new(context.RequestServices.GetRequiredService<IAuthorizationService>());
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
