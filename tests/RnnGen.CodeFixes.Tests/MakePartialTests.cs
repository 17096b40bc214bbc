using System.Threading.Tasks;
using Xunit;

namespace RnnGen.CodeFixes.Tests;

/// <summary>RNNG0001 and RNNG0003: the <c>partial</c> modifier goes last among the modifiers, trivia intact.</summary>
public class MakePartialTests
{
    private static readonly MakePartialCodeFixProvider Provider = new();

    [Fact]
    public Task RNNG0001_adds_partial_after_the_other_modifiers() => CodeFixHarness.AssertFixAsync(Provider, "RNNG0001", """
        using RnnGen;

        [RecurrentModel(Input = 4, Hidden = 8)]
        public sealed class Plain { }
        """, """
        using RnnGen;

        [RecurrentModel(Input = 4, Hidden = 8)]
        public sealed partial class Plain { }
        """, "Make class 'Plain' partial");

    [Fact]
    public Task RNNG0001_without_modifiers_keeps_the_indentation_in_front() => CodeFixHarness.AssertFixAsync(Provider, "RNNG0001", """
        using RnnGen;

        namespace Models
        {
            [RecurrentModel(Input = 4, Hidden = 8)]
            class Plain
            {
            }
        }
        """, """
        using RnnGen;

        namespace Models
        {
            [RecurrentModel(Input = 4, Hidden = 8)]
            partial class Plain
            {
            }
        }
        """, "Make class 'Plain' partial");

    [Fact]
    public Task RNNG0001_keeps_a_doc_comment_on_a_class_without_modifiers() => CodeFixHarness.AssertFixAsync(Provider, "RNNG0001", """
        using RnnGen;

        /// <summary>A model.</summary>
        [RecurrentModel(Input = 4, Hidden = 8)] class Plain { }
        """, """
        using RnnGen;

        /// <summary>A model.</summary>
        [RecurrentModel(Input = 4, Hidden = 8)] partial class Plain { }
        """, "Make class 'Plain' partial");

    [Fact]
    public Task RNNG0003_makes_the_containing_class_partial() => CodeFixHarness.AssertFixAsync(Provider, "RNNG0003", """
        using RnnGen;

        public class Outer
        {
            [RecurrentModel(Input = 4, Hidden = 8)]
            public partial class Inner { }
        }
        """, """
        using RnnGen;

        public partial class Outer
        {
            [RecurrentModel(Input = 4, Hidden = 8)]
            public partial class Inner { }
        }
        """, "Make 'Outer' partial");

    [Fact]
    public Task RNNG0003_makes_every_containing_type_partial_at_once() => CodeFixHarness.AssertFixAsync(Provider, "RNNG0003", """
        using RnnGen;

        namespace Models
        {
            public struct Outer
            {
                public partial class Middle
                {
                    internal class Lower
                    {
                        [RecurrentModel(Input = 4, Hidden = 8)]
                        internal partial class Inner { }
                    }
                }
            }
        }
        """, """
        using RnnGen;

        namespace Models
        {
            public partial struct Outer
            {
                public partial class Middle
                {
                    internal partial class Lower
                    {
                        [RecurrentModel(Input = 4, Hidden = 8)]
                        internal partial class Inner { }
                    }
                }
            }
        }
        """, "Make containing types 'Outer', 'Lower' partial", count: 2);

    [Fact]
    public Task RNNG0003_puts_partial_before_record() => CodeFixHarness.AssertFixAsync(Provider, "RNNG0003", """
        using RnnGen;

        public sealed record Outer
        {
            [RecurrentModel(Cell = CellKind.Gru, Input = 4, Hidden = 8)]
            public partial class Inner { }
        }
        """, """
        using RnnGen;

        public sealed partial record Outer
        {
            [RecurrentModel(Cell = CellKind.Gru, Input = 4, Hidden = 8)]
            public partial class Inner { }
        }
        """, "Make 'Outer' partial");

    [Fact]
    public async Task RNNG0001_and_RNNG0003_together_are_fixed_one_after_the_other()
    {
        const string before = """
            using RnnGen;

            static class Outer
            {
                [RecurrentModel(Input = 4, Hidden = 8)]
                class Inner { }
            }
            """;
        var document = CodeFixHarness.CreateDocument(before);
        var diagnostics = await CodeFixHarness.GeneratorDiagnosticsAsync(document);
        Assert.Equal(new[] { "RNNG0001", "RNNG0003" }, System.Linq.Enumerable.Select(diagnostics, d => d.Id));

        string step1 = await CodeFixHarness.ApplyAsync(Assert.Single(await CodeFixHarness.ActionsAsync(Provider, document, diagnostics[0])), document);
        document = CodeFixHarness.CreateDocument(step1);
        diagnostics = await CodeFixHarness.GeneratorDiagnosticsAsync(document);
        Assert.Equal("RNNG0003", Assert.Single(diagnostics).Id);
        string step2 = await CodeFixHarness.ApplyAsync(Assert.Single(await CodeFixHarness.ActionsAsync(Provider, document, diagnostics[0])), document);

        Assert.Equal(CodeFixHarness.Normalize("""
            using RnnGen;

            static partial class Outer
            {
                [RecurrentModel(Input = 4, Hidden = 8)]
                partial class Inner { }
            }
            """), step2);
        Assert.Empty(await CodeFixHarness.GeneratorDiagnosticsAsync(step2));
    }
}
