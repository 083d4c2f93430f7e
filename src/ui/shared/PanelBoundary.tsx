import { Component, type ErrorInfo, type ReactNode } from 'react';

/** Keeps one panel's rendering failure inside that panel, with its message, instead of blanking the whole page. */
export class PanelBoundary extends Component<{ name: string; children: ReactNode }, { error: Error | null }> {
  state: { error: Error | null } = { error: null };

  static getDerivedStateFromError(error: Error) {
    return { error };
  }

  componentDidCatch(error: Error, info: ErrorInfo): void {
    console.error(`${this.props.name} failed`, error, info.componentStack);
  }

  render() {
    if (!this.state.error) return this.props.children;
    return (
      <section className="panel" role="alert">
        <h2>{this.props.name}</h2>
        <p className="error small">this panel failed: {this.state.error.message}</p>
        <button onClick={() => this.setState({ error: null })}>Retry</button>
      </section>
    );
  }
}
