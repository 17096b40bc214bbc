using RnnGen.Generator.Model;

namespace RnnGen.Generator;

public sealed partial class RecurrentModelGenerator
{
    internal static partial class Emitter
    {
        /// <summary>The preprocessor symbol that switches the generated kernels (and the runtime's) to bounds-checked access.</summary>
        internal const string BoundsCheckedSymbol = "RNNGEN_BOUNDS_CHECKED";

        /// <summary>
        /// How a kernel reaches the elements of its spans; every element access of the emitted kernels goes through one
        /// of these methods. Unchecked (the default): a <c>ref</c> to a span's first element, then <c>Unsafe.Add</c>,
        /// <c>VectorN.LoadUnsafe</c> and <c>StoreUnsafe</c> from it, with no bounds checks. Bounds-checked (the consuming
        /// compilation defines <see cref="BoundsCheckedSymbol"/>): the same names hold spans and slices instead of refs,
        /// elements are read and written through the indexer, vectors through exact-length slices, and every nuint offset
        /// becomes an int with <c>checked(...)</c>, so an access outside a span throws instead of reading or writing
        /// memory the span does not own. A test mode: slower, never the default.
        /// </summary>
        private sealed class Access
        {
            public static readonly Access Unchecked = new(false);
            public static readonly Access BoundsChecked = new(true);

            private Access(bool isChecked) { IsChecked = isChecked; }

            public bool IsChecked { get; }

            public static Access For(TargetInfo target) => target.BoundsChecked ? BoundsChecked : Unchecked;

            /// <summary>An element offset (a nuint expression) as an int index, converted with overflow checks.</summary>
            public string Index(string offset)
            {
                if (IsDigits(offset)) return offset;
                return IsIdentifier(offset) ? $"checked((int){offset})" : $"checked((int)({offset}))";
            }

            /// <summary>Declares <paramref name="name"/> as the start of <paramref name="span"/>: a ref to its first element, or the span itself.</summary>
            public string Base(string name, string span, string type = "float")
                => IsChecked ? $"var {name} = {span};" : $"ref {type} {name} = ref {Marshal}.GetReference({span});";

            /// <summary>Where element <paramref name="offset"/> of <paramref name="r"/> is: a ref expression, or the slice from there.</summary>
            public string Location(string r, string offset)
                => IsChecked ? $"{r}.Slice({Index(offset)})" : $"{Unsafe}.Add(ref {r}, {offset})";

            /// <summary>Declares <paramref name="name"/> at element <paramref name="offset"/> of <paramref name="r"/>.</summary>
            public string Ref(string name, string r, string offset, string type = "float")
                => IsChecked ? $"var {name} = {Location(r, offset)};" : $"ref {type} {name} = ref {Location(r, offset)};";

            /// <summary>
            /// Declares <paramref name="name"/> at element <paramref name="offset"/> of <paramref name="r"/> when
            /// <paramref name="condition"/> holds. Unchecked code may point past an empty span it never reads; the checked
            /// form gives an empty span instead, as a slice past the end would throw.
            /// </summary>
            public string RefWhen(string name, string condition, string r, string offset)
                => IsChecked ? $"{RoSpan} {name} = {condition} ? {Location(r, offset)} : default;" : Ref(name, r, offset);

            /// <summary>Declares <paramref name="name"/> as one of two locations (results of <see cref="Location"/> or names).</summary>
            public string Choose(string name, string condition, string whenTrue, string whenFalse)
                => IsChecked
                    ? $"{RoSpan} {name} = {condition} ? {whenTrue} : {whenFalse};"
                    : $"ref float {name} = ref {condition} ? ref {whenTrue} : ref {whenFalse};";

            /// <summary>Element <paramref name="offset"/> of <paramref name="r"/>, to read or assign.</summary>
            public string At(string r, string offset)
                => IsChecked ? $"{r}[{Index(offset)}]" : $"{Unsafe}.Add(ref {r}, {offset})";

            /// <summary>
            /// A vector of <paramref name="width"/> elements (of <paramref name="type"/>) from element <paramref name="offset"/>
            /// of <paramref name="r"/>. The checked form names the element type: given a Span, Create&lt;T&gt;(T) with T the
            /// span type would otherwise be a candidate for compilers that allow ref structs as type arguments.
            /// </summary>
            public string Load(string vector, string r, string offset, int width, string type = "float")
                => IsChecked ? $"{vector}.Create<{type}>({r}.Slice({Index(offset)}, {Num(width)}))" : $"{vector}.LoadUnsafe(ref {r}, {offset})";

            /// <summary>Stores <paramref name="value"/> (a vector of <paramref name="width"/>) at element <paramref name="offset"/> of <paramref name="r"/>.</summary>
            public string Store(string vector, string value, string r, string offset, int width)
                => IsChecked ? $"{vector}.CopyTo({value}, {r}.Slice({Index(offset)}, {Num(width)}));" : $"{vector}.StoreUnsafe({value}, ref {r}, {offset});";

            /// <summary>Declares <paramref name="name"/> as the pairs of ushorts from element <paramref name="offset"/> of <paramref name="r"/> read as uints.</summary>
            public string UInt32Ref(string name, string r, string offset)
                => IsChecked
                    ? $"var {name} = {Marshal}.Cast<ushort, uint>({Location(r, offset)});"
                    : $"ref uint {name} = ref {Unsafe}.As<ushort, uint>(ref {Location(r, offset)});";

            /// <summary>The ushorts at elements <paramref name="offset"/> and <paramref name="offset"/> + 1 of <paramref name="r"/> read as one uint.</summary>
            public string ReadUInt32(string r, string offset)
                => IsChecked
                    ? $"{Marshal}.Cast<ushort, uint>({r}.Slice({Index(offset)}, 2))[0]"
                    : $"{Unsafe}.As<ushort, uint>(ref {Location(r, offset)})";

            private static bool IsDigits(string text)
            {
                foreach (char c in text) if (c < '0' || c > '9') return false;
                return text.Length > 0;
            }

            private static bool IsIdentifier(string text)
            {
                if (text.Length == 0 || char.IsDigit(text[0])) return false;
                foreach (char c in text) if (!char.IsLetterOrDigit(c) && c != '_') return false;
                return true;
            }
        }
    }
}
