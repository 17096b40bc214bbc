#if !NET5_0_OR_GREATER
namespace System.Runtime.CompilerServices
{
    /// <summary>Lets the netstandard2.1 build declare <c>init</c> accessors (the compiler looks this type up by name).</summary>
    internal static class IsExternalInit
    {
    }
}
#endif
