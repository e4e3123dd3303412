import { IllegalStateError, type Command, type Event } from '@event-driven-io/emmett';

/** A shopping cart, written the way Emmett's documentation writes deciders. */
export type ShoppingCartEvent =
  | Event<'ShoppingCartOpened', { cartId: string }>
  | Event<'ProductItemAdded', { productId: string; quantity: number }>
  | Event<'ShoppingCartConfirmed', { lines: number }>;

export type ShoppingCartCommand =
  | Command<'OpenShoppingCart', { cartId: string }>
  | Command<'AddProductItem', { productId: string; quantity: number }>
  | Command<'ConfirmShoppingCart', Record<string, never>>;

export type ShoppingCart =
  | { status: 'Empty' }
  | { status: 'Opened' | 'Confirmed'; items: Record<string, number> };

export const initialState = (): ShoppingCart => ({ status: 'Empty' });

export function evolve(state: ShoppingCart, event: ShoppingCartEvent): ShoppingCart {
  switch (event.type) {
    case 'ShoppingCartOpened':
      return { status: 'Opened', items: {} };
    case 'ProductItemAdded': {
      const items = state.status === 'Empty' ? {} : state.items;
      const { productId, quantity } = event.data;
      return { status: 'Opened', items: { ...items, [productId]: (items[productId] ?? 0) + quantity } };
    }
    case 'ShoppingCartConfirmed':
      return { status: 'Confirmed', items: state.status === 'Empty' ? {} : state.items };
  }
}

export function decide(command: ShoppingCartCommand, state: ShoppingCart): ShoppingCartEvent | ShoppingCartEvent[] {
  switch (command.type) {
    case 'OpenShoppingCart':
      if (state.status !== 'Empty') throw new IllegalStateError('The cart is already open');
      return { type: 'ShoppingCartOpened', data: { cartId: command.data.cartId } };
    case 'AddProductItem':
      if (state.status !== 'Opened') throw new IllegalStateError(`Cannot add to a cart that is ${state.status.toLowerCase()}`);
      return { type: 'ProductItemAdded', data: { productId: command.data.productId, quantity: command.data.quantity } };
    case 'ConfirmShoppingCart':
      if (state.status !== 'Opened') throw new IllegalStateError(`Cannot confirm a cart that is ${state.status.toLowerCase()}`);
      return { type: 'ShoppingCartConfirmed', data: { lines: Object.keys(state.items).length } };
  }
}
