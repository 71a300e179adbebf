using Microsoft.AspNetCore.Mvc;
using Microsoft.FeatureManagement;
using Microsoft.FeatureManagement.Mvc;

/// <summary>The new checkout, served only while Keel's flag <c>new-checkout</c> is on (404 otherwise).</summary>
[ApiController]
[Route("checkout/v2")]
public sealed class CheckoutV2Controller(IVariantFeatureManager features) : ControllerBase
{
    [HttpGet]
    [FeatureGate("new-checkout")]
    public async Task<object> GetAsync(CancellationToken cancellationToken)
    {
        // The flag `checkout-theme` has string variants; its variant's configuration is the value.
        var theme = await features.GetVariantAsync("checkout-theme", cancellationToken);
        return new { version = 2, theme = theme?.Configuration?.Value ?? "default" };
    }
}
