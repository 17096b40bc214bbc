using System.Threading.Tasks;
using Xunit;

namespace RnnGen.CodeFixes.Tests;

/// <summary>RNNG0010: the <c>static</c> or <c>abstract</c> modifier is removed, trivia intact.</summary>
public class StaticOrAbstractTests
{
    private static readonly StaticOrAbstractCodeFixProvider Provider = new();

    [Fact]
    public Task Removes_static() => CodeFixHarness.AssertFixAsync(Provider, "RNNG0010", """
        using RnnGen;

        [RecurrentModel(Input = 4, Hidden = 8)]
        public static partial class Helpers { }
        """, """
        using RnnGen;

        [RecurrentModel(Input = 4, Hidden = 8)]
        public partial class Helpers { }
        """, "Remove 'static' from 'Helpers'");

    [Fact]
    public Task Removes_abstract() => CodeFixHarness.AssertFixAsync(Provider, "RNNG0010", """
        using RnnGen;

        [RecurrentModel(Input = 4, Hidden = 8)]
        public abstract partial class Base { }
        """, """
        using RnnGen;

        [RecurrentModel(Input = 4, Hidden = 8)]
        public partial class Base { }
        """, "Remove 'abstract' from 'Base'");

    [Fact]
    public Task Removing_the_first_modifier_keeps_the_indentation() => CodeFixHarness.AssertFixAsync(Provider, "RNNG0010", """
        using RnnGen;

        namespace Models
        {
            [RecurrentModel(Input = 4, Hidden = 8)]
            static partial class Helpers { }
        }
        """, """
        using RnnGen;

        namespace Models
        {
            [RecurrentModel(Input = 4, Hidden = 8)]
            partial class Helpers { }
        }
        """, "Remove 'static' from 'Helpers'");
}
