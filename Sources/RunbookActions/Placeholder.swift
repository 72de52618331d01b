// Built-in actions: descriptors (and, later, implementations) by domain.
import RunbookKit
public enum BuiltinActions {
    public static let catalog = ActionCatalog([])
    public static let registry = ActionRegistry(catalog: catalog, implementations: [])
}
