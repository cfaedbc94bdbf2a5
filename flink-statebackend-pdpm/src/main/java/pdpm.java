import org.pdpm.flink.PdpmStateBackendFactory;

/**
 * The short name {@code state.backend.type: pdpm}: Flink loads any name it does not know as the
 * class name of a state backend factory, so this class, in the unnamed package, is that name.
 */
public final class pdpm extends PdpmStateBackendFactory {
}
