/* MbGoalGallery; see mb-goal-gallery.h. */
#include "mb-goal-gallery.h"

#include "mb-image-view.h"
#include "mb-ui.h"

struct _MbGoalGallery {
  GtkWidget parent_instance;

  GtkWidget *stack;    /* template: "empty" label or "items" */
  GtkWidget *scroller; /* template: scrolls the flow box */
  GtkWidget *flow;     /* template: GtkFlowBox of GtkFlowBoxChild > MbImageView */

  int n_items;        /* thumbnails in flow */
  int selected;       /* highlighted index, -1 for none */
  int thumbnail_size; /* side of each thumbnail's image, pixels */
};

G_DEFINE_FINAL_TYPE(MbGoalGallery, mb_goal_gallery, GTK_TYPE_WIDGET)

enum { PROP_0, PROP_SELECTED, PROP_THUMBNAIL_SIZE, N_PROPS };
static GParamSpec *props[N_PROPS];

enum { SIGNAL_GOAL_PICKED, N_SIGNALS };
static guint signals[N_SIGNALS];

static void set_selected_index(MbGoalGallery *self, int index) {
  if (self->selected == index) return;
  self->selected = index;
  g_object_notify_by_pspec(G_OBJECT(self), props[PROP_SELECTED]);
}

static void on_selection_changed(GtkFlowBox *flow, MbGoalGallery *self) {
  GList *sel = gtk_flow_box_get_selected_children(flow);
  int index = sel ? gtk_flow_box_child_get_index(sel->data) : -1;
  g_list_free(sel);
  set_selected_index(self, index);
}

static void on_child_activated(GtkFlowBox *flow, GtkFlowBoxChild *child, MbGoalGallery *self) {
  (void)flow;
  int index = gtk_flow_box_child_get_index(child);
  if (index < 0) return;
  set_selected_index(self, index);
  g_signal_emit(self, signals[SIGNAL_GOAL_PICKED], 0, index);
}

void mb_goal_gallery_clear(MbGoalGallery *self) {
  g_return_if_fail(MB_IS_GOAL_GALLERY(self));
  GtkWidget *child;
  while ((child = gtk_widget_get_first_child(self->flow)))
    gtk_flow_box_remove(GTK_FLOW_BOX(self->flow), child);
  self->n_items = 0;
  gtk_stack_set_visible_child_name(GTK_STACK(self->stack), "empty");
  set_selected_index(self, -1);
}

int mb_goal_gallery_append(MbGoalGallery *self, const guint8 *pixels, int width, int height,
                           int stride, const char *label) {
  g_return_val_if_fail(MB_IS_GOAL_GALLERY(self), -1);
  GtkWidget *view = mb_image_view_new();
  if (!mb_image_view_set_image(MB_IMAGE_VIEW(view), pixels, width, height, stride)) {
    g_object_ref_sink(view);
    g_object_unref(view);
    return -1;
  }
  mb_image_view_set_display_size(MB_IMAGE_VIEW(view), self->thumbnail_size);
  mb_image_view_set_caption(MB_IMAGE_VIEW(view), label);
  if (label) gtk_widget_set_tooltip_text(view, label);
  GtkWidget *child = gtk_flow_box_child_new();
  gtk_flow_box_child_set_child(GTK_FLOW_BOX_CHILD(child), view);
  gtk_widget_set_cursor_from_name(child, "pointer");
  gtk_flow_box_append(GTK_FLOW_BOX(self->flow), child);
  gtk_stack_set_visible_child_name(GTK_STACK(self->stack), "items");
  return self->n_items++;
}

int mb_goal_gallery_get_n_items(MbGoalGallery *self) {
  g_return_val_if_fail(MB_IS_GOAL_GALLERY(self), 0);
  return self->n_items;
}

void mb_goal_gallery_set_selected(MbGoalGallery *self, int index) {
  g_return_if_fail(MB_IS_GOAL_GALLERY(self));
  GtkFlowBoxChild *child =
      index >= 0 ? gtk_flow_box_get_child_at_index(GTK_FLOW_BOX(self->flow), index) : NULL;
  if (child)
    gtk_flow_box_select_child(GTK_FLOW_BOX(self->flow), child);
  else
    gtk_flow_box_unselect_all(GTK_FLOW_BOX(self->flow));
  set_selected_index(self, child ? index : -1);
}

int mb_goal_gallery_get_selected(MbGoalGallery *self) {
  g_return_val_if_fail(MB_IS_GOAL_GALLERY(self), -1);
  return self->selected;
}

GtkWidget *mb_goal_gallery_get_thumbnail(MbGoalGallery *self, int index) {
  g_return_val_if_fail(MB_IS_GOAL_GALLERY(self), NULL);
  GtkFlowBoxChild *child =
      index >= 0 ? gtk_flow_box_get_child_at_index(GTK_FLOW_BOX(self->flow), index) : NULL;
  return child ? gtk_flow_box_child_get_child(child) : NULL;
}

void mb_goal_gallery_set_thumbnail_size(MbGoalGallery *self, int size) {
  g_return_if_fail(MB_IS_GOAL_GALLERY(self));
  size = CLAMP(size, 16, 1024);
  if (self->thumbnail_size == size) return;
  self->thumbnail_size = size;
  for (int i = 0; i < self->n_items; i++)
    mb_image_view_set_display_size(MB_IMAGE_VIEW(mb_goal_gallery_get_thumbnail(self, i)), size);
  g_object_notify_by_pspec(G_OBJECT(self), props[PROP_THUMBNAIL_SIZE]);
}

static void mb_goal_gallery_get_property(GObject *object, guint id, GValue *value,
                                         GParamSpec *pspec) {
  MbGoalGallery *self = MB_GOAL_GALLERY(object);
  switch (id) {
    case PROP_SELECTED:
      g_value_set_int(value, self->selected);
      break;
    case PROP_THUMBNAIL_SIZE:
      g_value_set_int(value, self->thumbnail_size);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
  }
}

static void mb_goal_gallery_set_property(GObject *object, guint id, const GValue *value,
                                         GParamSpec *pspec) {
  MbGoalGallery *self = MB_GOAL_GALLERY(object);
  switch (id) {
    case PROP_SELECTED:
      mb_goal_gallery_set_selected(self, g_value_get_int(value));
      break;
    case PROP_THUMBNAIL_SIZE:
      mb_goal_gallery_set_thumbnail_size(self, g_value_get_int(value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
  }
}

static void mb_goal_gallery_dispose(GObject *object) {
  gtk_widget_dispose_template(GTK_WIDGET(object), MB_TYPE_GOAL_GALLERY);
  G_OBJECT_CLASS(mb_goal_gallery_parent_class)->dispose(object);
}

static void mb_goal_gallery_class_init(MbGoalGalleryClass *klass) {
  GObjectClass *object_class = G_OBJECT_CLASS(klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
  object_class->get_property = mb_goal_gallery_get_property;
  object_class->set_property = mb_goal_gallery_set_property;
  object_class->dispose = mb_goal_gallery_dispose;

  GParamFlags f = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;
  props[PROP_SELECTED] = g_param_spec_int("selected", "Selected", NULL, -1, G_MAXINT, -1, f);
  props[PROP_THUMBNAIL_SIZE] =
      g_param_spec_int("thumbnail-size", "Thumbnail size", NULL, 16, 1024, 96, f);
  g_object_class_install_properties(object_class, N_PROPS, props);

  signals[SIGNAL_GOAL_PICKED] =
      g_signal_new("goal-picked", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                   G_TYPE_NONE, 1, G_TYPE_INT);

  mb_ui_ensure_resources();
  gtk_widget_class_set_template_from_resource(widget_class,
                                              MB_UI_RESOURCE_PREFIX "ui/mb-goal-gallery.ui");
  gtk_widget_class_bind_template_child(widget_class, MbGoalGallery, stack);
  gtk_widget_class_bind_template_child(widget_class, MbGoalGallery, scroller);
  gtk_widget_class_bind_template_child(widget_class, MbGoalGallery, flow);
  gtk_widget_class_set_css_name(widget_class, "mbgoalgallery");
}

static void mb_goal_gallery_init(MbGoalGallery *self) {
  gtk_widget_init_template(GTK_WIDGET(self));
  mb_ui_ensure_style();
  self->selected = -1;
  self->thumbnail_size = 96;
  g_signal_connect(self->flow, "selected-children-changed", G_CALLBACK(on_selection_changed), self);
  g_signal_connect(self->flow, "child-activated", G_CALLBACK(on_child_activated), self);
}

GtkWidget *mb_goal_gallery_new(void) {
  return g_object_new(MB_TYPE_GOAL_GALLERY, NULL);
}
