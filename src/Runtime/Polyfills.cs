#if !NET5_0_OR_GREATER
namespace System.Runtime.CompilerServices
{
    /// <summary>Lets the netstandard2.1 build declare <c>init</c> accessors (the compiler looks this type up by name).</summary>
    internal static class IsExternalInit
    {
    }
}
#endif

namespace RnnGen
{
    /// <summary>Method attributes shared by both targets.</summary>
    internal static class Jit
    {
        /// <summary>
        /// <c>MethodImplOptions.AggressiveOptimization</c> (512): compile fully optimized on first call, skipping tiered
        /// compilation's unoptimized first tier. netstandard2.1 lacks the name; runtimes that do not know the flag ignore it.
        /// </summary>
        public const System.Runtime.CompilerServices.MethodImplOptions Optimized = (System.Runtime.CompilerServices.MethodImplOptions)512;
    }
}
